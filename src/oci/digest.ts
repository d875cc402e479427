import { OciError } from './errors.ts';

export type DigestAlgorithm = 'sha256' | 'sha512';

/** `sha256:<64 hex>` or `sha512:<128 hex>`, lower-case. Only `parseDigest` and `makeDigest` produce one. */
export type Digest = string & { readonly __brand: 'Digest' };

export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['sha256', 'sha512'];
const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const DIGEST = /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;

export function isDigest(value: string): value is Digest {
  return DIGEST.test(value);
}

/** Parses a digest, or throws `DIGEST_INVALID`. */
export function parseDigest(value: string): Digest {
  if (!isDigest(value)) throw new OciError('DIGEST_INVALID', `invalid digest '${value.slice(0, 200)}'`);
  return value;
}

export function parseAlgorithm(value: string): DigestAlgorithm | undefined {
  return value === 'sha256' || value === 'sha512' ? value : undefined;
}

export function makeDigest(algorithm: DigestAlgorithm, hex: string): Digest {
  const digest = `${algorithm}:${hex}`;
  if (hex.length !== HEX_LENGTH[algorithm] || !isDigest(digest)) throw new Error(`bad ${algorithm} hex '${hex}'`);
  return digest;
}

export function digestAlgorithm(digest: Digest): DigestAlgorithm {
  return digest.startsWith('sha256:') ? 'sha256' : 'sha512';
}

export function digestHex(digest: Digest): string {
  return digest.slice(digest.indexOf(':') + 1);
}
