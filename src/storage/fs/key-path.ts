import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { keyProblem as commonKeyProblem } from '../key-check.ts';

/**
 * Temp files live beside their target (so `rename`/`link` stay on one filesystem) under a name no key can take:
 * key components never start with `.`, so every dot-name on disk is ours (or the filesystem's, like NFS's
 * `.nfsXXXX` silly-renames) and is hidden from listings.
 */
const TEMP_PREFIX = '.tmp-';

export function tempName(): string {
  return `${TEMP_PREFIX}${process.pid}-${randomBytes(8).toString('hex')}`;
}

export function isHiddenName(name: string): boolean {
  return name.startsWith('.');
}

/**
 * The registry validates every name before it reaches a key; this is defence in depth so that no key, however
 * built, can address a path outside the root or collide with a temp file.
 */
export function assertKey(key: string): void {
  const problem = keyProblem(key);
  if (problem !== undefined) throw new Error(`invalid storage key ${JSON.stringify(key)}: ${problem}`);
}

function keyProblem(key: string): string | undefined {
  const common = commonKeyProblem(key);
  if (common !== undefined) return common;
  if (key.split('/').some(isHiddenName)) return 'path component starts with . (reserved for temp files)';
  return undefined;
}

/** A listing prefix: `''` is the whole store, and one trailing `/` is accepted (`a/b/` ≡ `a/b`). */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (trimmed !== '') assertKey(trimmed);
  return trimmed;
}

export function keyPath(rootDir: string, key: string): string {
  assertKey(key);
  return join(rootDir, ...key.split('/'));
}
