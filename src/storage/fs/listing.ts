import { lstat, opendir } from 'node:fs/promises';
import { join } from 'node:path';
import { hasCode } from './errno.ts';
import type { FsCalls } from './fs-calls.ts';
import { isHiddenName } from './key-path.ts';

/**
 * One visible directory entry. `order` is what the entry contributes to the byte order of full keys: a file
 * is the key `name`, a directory holds keys that all start with `name/`. Sorting by it makes a depth-first
 * walk come out in the ascending byte order of full keys (`library!` < `library/nginx!`, `a-b!` < `a/b!`).
 */
interface Entry {
  name: string;
  isDirectory: boolean;
  order: Buffer;
}

/** Visible entries in listing order; a missing directory (never created, or just pruned) is empty. */
async function readEntries(calls: FsCalls, dir: string): Promise<Entry[]> {
  let dirents;
  try {
    dirents = await calls.readdir(dir);
  } catch (err) {
    if (hasCode(err, 'ENOENT', 'ENOTDIR')) return [];
    throw err;
  }
  const entries: Entry[] = [];
  for (const dirent of dirents) {
    if (isHiddenName(dirent.name)) continue;
    const isDirectory = dirent.isDirectory();
    if (!isDirectory && !dirent.isFile()) continue;
    entries.push({ name: dirent.name, isDirectory, order: Buffer.from(isDirectory ? `${dirent.name}/` : dirent.name) });
  }
  return entries.sort((a, b) => Buffer.compare(a.order, b.order));
}

type Overlap = 'all' | 'some' | 'none';

/** Which keys of the subtree whose keys all start with `subtreePrefix` sort after `startAfter`. */
function overlap(subtreePrefix: Buffer, startAfter: Buffer | undefined): Overlap {
  if (startAfter === undefined || Buffer.compare(startAfter, subtreePrefix) < 0) return 'all';
  const insideSubtree = startAfter.subarray(0, subtreePrefix.length).equals(subtreePrefix);
  // startAfter > subtreePrefix without extending it ⇒ it sorts above every key of the subtree.
  return insideSubtree ? 'some' : 'none';
}

/**
 * Every key under `dir` (whose keys start with `keyPrefix`, `''` or ending in `/`) that sorts strictly after
 * `startAfter`, in ascending byte order. Subtrees entirely at or below `startAfter` are never read.
 */
export async function* keysUnder(calls: FsCalls, dir: string, keyPrefix: string, startAfter: Buffer | undefined): AsyncGenerator<string> {
  const start = overlap(Buffer.from(keyPrefix), startAfter);
  if (start === 'none') return;
  let after = start === 'all' ? undefined : startAfter;
  for (const entry of await readEntries(calls, dir)) {
    if (entry.isDirectory) {
      const childPrefix = `${keyPrefix}${entry.name}/`;
      const childOverlap = overlap(Buffer.from(childPrefix), after);
      if (childOverlap === 'none') continue;
      // Entries come in key order, so once one subtree is wholly after startAfter, so is everything that follows.
      if (childOverlap === 'all') after = undefined;
      yield* keysUnder(calls, join(dir, entry.name), childPrefix, after);
      after = undefined;
    } else {
      const key = `${keyPrefix}${entry.name}`;
      if (after !== undefined && Buffer.compare(Buffer.from(key), after) <= 0) continue;
      after = undefined;
      yield key;
    }
  }
}

export interface ChildEntry {
  name: string;
  isPrefix: boolean;
  /** `name`, or `name/` for a prefix: the child's place in listing order and its continuation token. */
  token: string;
}

/**
 * The children of `dir` sorting after `startAfter`. A directory holding no key (emptied but not yet pruned,
 * or holding only temp files) is no child at all, as on an object store.
 */
export async function* childrenOf(calls: FsCalls, dir: string, startAfter: string | undefined): AsyncGenerator<ChildEntry> {
  const after = startAfter === undefined ? undefined : Buffer.from(await childOrder(dir, startAfter));
  for (const entry of await readEntries(calls, dir)) {
    if (after !== undefined && Buffer.compare(entry.order, after) <= 0) continue;
    const childDir = join(dir, entry.name);
    if (entry.isDirectory && !(await holdsKeys(childDir))) continue;
    yield { name: entry.name, isPrefix: entry.isDirectory, token: entry.order.toString() };
  }
}

/**
 * Where a `startAfter` child name sits in listing order. A bare name that is a prefix on disk means "after that
 * prefix" (callers pass back names they were given, like a tag listing's `last`); a trailing `/` says so outright.
 */
async function childOrder(dir: string, startAfter: string): Promise<string> {
  if (startAfter === '' || startAfter.includes('/') || startAfter.includes('\0') || isHiddenName(startAfter)) return startAfter;
  try {
    return (await lstat(join(dir, startAfter))).isDirectory() ? `${startAfter}/` : startAfter;
  } catch (err) {
    if (hasCode(err, 'ENOENT', 'ENOTDIR')) return startAfter;
    throw err;
  }
}

/** True when the directory holds at least one key; stops at the first one found, reading lazily. */
async function holdsKeys(dir: string): Promise<boolean> {
  let handle;
  try {
    handle = await opendir(dir);
  } catch (err) {
    if (hasCode(err, 'ENOENT', 'ENOTDIR')) return false;
    throw err;
  }
  for await (const dirent of handle) {
    if (isHiddenName(dirent.name)) continue;
    if (dirent.isFile()) return true;
    if (dirent.isDirectory() && (await holdsKeys(join(dir, dirent.name)))) return true;
  }
  return false;
}
