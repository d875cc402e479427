// JSON Web Tokens as an attacker writes them: any header (an `alg` that does not match the key, `jku`/`jwk`/`x5u`
// pointing at the attacker, unknown `crit` extensions), payloads edited after signing, signatures cut or flipped.
// Signing is done here with node:crypto rather than jose, which refuses most of these on purpose.
import { createHmac, KeyObject, sign, constants, webcrypto } from 'node:crypto';

export type JwsAlgorithm = 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'ES256';

export function segment(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** The three segments of a compact token. */
export function segmentsOf(token: string): [string, string, string] {
  const [header = '', payload = '', signature = ''] = token.split('.');
  return [header, payload, signature];
}

/**
 * A token whose signature is computed with `algorithm` over exactly `header` and `payload`, whatever `header.alg`
 * claims: an HMAC when `key` is bytes (a public key's PEM as the secret, say), an RSA or EC signature otherwise.
 */
export function signToken(header: Record<string, unknown>, payload: Record<string, unknown>, algorithm: JwsAlgorithm, key: Buffer | string | KeyObject | webcrypto.CryptoKey): string {
  const input = `${segment(header)}.${segment(payload)}`;
  const hash = `sha${algorithm.slice(2)}`;
  let signature: Buffer;
  if (algorithm.startsWith('HS')) {
    if (!(typeof key === 'string' || Buffer.isBuffer(key))) throw new Error('an HMAC needs bytes as its key');
    signature = createHmac(hash, key).update(input).digest();
  } else {
    if (typeof key === 'string' || Buffer.isBuffer(key)) throw new Error(`${algorithm} needs a private key`);
    const keyObject = key instanceof KeyObject ? key : KeyObject.from(key);
    signature = sign(hash, Buffer.from(input), {
      key: keyObject,
      ...(algorithm.startsWith('PS') ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(algorithm.slice(2)) / 8 } : {}),
      ...(algorithm.startsWith('ES') ? { dsaEncoding: 'ieee-p1363' as const } : {}),
    });
  }
  return `${input}.${signature.toString('base64url')}`;
}

/** `token` with its payload replaced and the original signature kept. */
export function withPayload(token: string, payload: Record<string, unknown>): string {
  const [header, , signature] = segmentsOf(token);
  return `${header}.${segment(payload)}.${signature}`;
}

/** `token` with its header replaced and the original signature kept. */
export function withHeader(token: string, header: Record<string, unknown>): string {
  const [, payload, signature] = segmentsOf(token);
  return `${segment(header)}.${payload}.${signature}`;
}

/** `token` with one bit of its signature flipped. */
export function flippedSignature(token: string): string {
  const [header, payload, signature] = segmentsOf(token);
  const bytes = Buffer.from(signature, 'base64url');
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
  return `${header}.${payload}.${bytes.toString('base64url')}`;
}

/** The decoded payload of a compact token. */
export function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(segmentsOf(token)[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}
