import { createCipheriv, createHash } from 'node:crypto';

/**
 * `size` bytes that depend only on `seed` (AES-256-CTR of zeros under a key hashed from it: fast, incompressible),
 * so a workload pushes the same content on every run.
 */
export function seededBytes(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(seed).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}
