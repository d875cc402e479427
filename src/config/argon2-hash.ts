// Load-time check of `[auth.identity.<id>].password` (docs/configuration.md): an Argon2 PHC string,
// `$argon2id$v=19$m=<KiB>,t=<iter>,p=<lanes>$<salt>$<hash>`. A string that cannot be verified is refused
// here, so a typo fails the start (or the reload) instead of locking the user out at the first request.
// Reasons never quote the string: it is a secret.

const ALGORITHMS = new Set(['argon2id', 'argon2i', 'argon2d']);
const VERSIONS = new Set([16, 19]);
// RFC 9106 bounds; the binding would refuse anything outside them at verification time.
const MIN_SALT_BYTES = 8;
const MIN_HASH_BYTES = 4;
const MAX_LANES = 2 ** 24 - 1;
const MAX_U32 = 2 ** 32 - 1;

/** PHC fields are base64 without padding; length 4n+1 cannot encode whole bytes. */
function unpaddedBase64Bytes(field: string, what: string): number {
  if (!/^[A-Za-z0-9+/]+$/.test(field) || field.length % 4 === 1) throw new Error(`${what} is not unpadded base64`);
  return Math.floor((field.length * 3) / 4);
}

function parseParameters(field: string): { m: number; t: number; p: number } {
  const values = new Map<string, number>();
  for (const pair of field.split(',')) {
    const match = /^([mtp])=(\d{1,10})$/.exec(pair);
    if (!match) throw new Error(`parameters must be m=<KiB>,t=<iterations>,p=<lanes>`);
    const [, name, digits] = match as unknown as [string, string, string];
    if (values.has(name)) throw new Error(`parameter '${name}' is repeated`);
    values.set(name, Number(digits));
  }
  const m = values.get('m');
  const t = values.get('t');
  const p = values.get('p');
  if (m === undefined || t === undefined || p === undefined) throw new Error(`parameters must be m=<KiB>,t=<iterations>,p=<lanes>`);
  if (p < 1 || p > MAX_LANES) throw new Error(`p must be between 1 and ${MAX_LANES}`);
  if (t < 1 || t > MAX_U32) throw new Error('t must be at least 1');
  if (m < 8 * p || m > MAX_U32) throw new Error('m must be at least 8 KiB per lane');
  return { m, t, p };
}

/** Throws an Error whose message is the reason the string is not a usable Argon2 hash. */
export function checkArgon2Hash(phc: string): void {
  if (phc === '') throw new Error('the hash is empty');
  const fields = phc.split('$');
  if (fields[0] !== '') throw new Error("a PHC string starts with '$'");
  const algorithm = fields[1] ?? '';
  if (!ALGORITHMS.has(algorithm)) throw new Error('expected an argon2id, argon2i or argon2d PHC string');
  // The version field is optional in PHC (absent means 0x10, the first Argon2 release).
  const rest = fields.slice(2);
  if (rest[0]?.startsWith('v=')) {
    const version = rest.shift()!.slice(2);
    if (!/^\d{1,3}$/.test(version) || !VERSIONS.has(Number(version))) throw new Error('version must be v=19 or v=16');
  }
  if (rest.length !== 3) throw new Error('expected $<algorithm>$v=<version>$<parameters>$<salt>$<hash>');
  const [parameters, salt, hash] = rest as [string, string, string];
  parseParameters(parameters);
  if (unpaddedBase64Bytes(salt, 'salt') < MIN_SALT_BYTES) throw new Error(`salt must be at least ${MIN_SALT_BYTES} bytes`);
  if (unpaddedBase64Bytes(hash, 'hash') < MIN_HASH_BYTES) throw new Error(`hash must be at least ${MIN_HASH_BYTES} bytes`);
}
