// Size strings (docs/configuration.md): `5MiB`, `"3 MB"`, `1.5KiB`, plain byte counts.

const DECIMAL: Record<string, bigint> = { b: 1n, k: 1000n, kb: 1000n, m: 1000n ** 2n, mb: 1000n ** 2n, g: 1000n ** 3n, gb: 1000n ** 3n, t: 1000n ** 4n, tb: 1000n ** 4n, p: 1000n ** 5n, pb: 1000n ** 5n };
const BINARY: Record<string, bigint> = { ki: 1024n, kib: 1024n, mi: 1024n ** 2n, mib: 1024n ** 2n, gi: 1024n ** 3n, gib: 1024n ** 3n, ti: 1024n ** 4n, tib: 1024n ** 4n, pi: 1024n ** 5n, pib: 1024n ** 5n };

const SIZE = /^(\d+)(?:\.(\d+))?[ \t]*([A-Za-z]+)$/;
const MAX = BigInt(Number.MAX_SAFE_INTEGER);

export class SizeError extends Error {}

function checked(bytes: bigint, text: string): number {
  if (bytes > MAX) throw new SizeError(`size '${text}' is too large (maximum ${Number.MAX_SAFE_INTEGER} bytes)`);
  return Number(bytes);
}

/** Bytes for a TOML size value: a non-negative integer, an all-digit string or `<number> <unit>`. */
export function parseSize(value: string | number | bigint): number {
  if (typeof value === 'bigint' || typeof value === 'number') {
    if (typeof value === 'number' && !Number.isInteger(value)) throw new SizeError(`invalid size '${value}': not an integer`);
    const bytes = BigInt(value);
    if (bytes < 0n) throw new SizeError(`invalid size '${value}': must not be negative`);
    return checked(bytes, String(value));
  }
  if (/^\d+$/.test(value)) return checked(BigInt(value), value);
  const match = SIZE.exec(value);
  if (!match) throw new SizeError(`invalid size '${value}'`);
  const [, whole = '', fraction = '', unitText = ''] = match;
  const unit = unitText.toLowerCase();
  const factor = DECIMAL[unit] ?? BINARY[unit];
  if (factor === undefined) throw new SizeError(`invalid size '${value}': unknown unit '${unitText}'`);
  // Exact integer arithmetic: floor(whole.fraction × factor) without binary floating point error.
  const scale = 10n ** BigInt(fraction.length);
  const bytes = (BigInt(whole + fraction) * factor) / scale;
  return checked(bytes, value);
}
