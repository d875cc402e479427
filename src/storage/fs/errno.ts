import { NotFoundError } from '../object-store.ts';

export function hasCode(err: unknown, ...codes: string[]): boolean {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' && codes.includes(err.code);
}

/**
 * For reads, "no object at this key" shows up as ENOENT, as ENOTDIR (a parent component is a file) or as EISDIR
 * (the key names a directory, which is a prefix and never an object). All three are plain absence.
 */
export function isAbsent(err: unknown): boolean {
  return hasCode(err, 'ENOENT', 'ENOTDIR', 'EISDIR');
}

export async function orNotFound<T>(key: string, operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (err) {
    if (isAbsent(err)) throw new NotFoundError(key);
    throw err;
  }
}
