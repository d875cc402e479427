import { open } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { hasCode } from './errno.ts';
import type { FsCalls } from './fs-calls.ts';
import { tempName } from './key-path.ts';

/** Enough to outlast any realistic run of deletes pruning the same directories; a livelock still fails loudly. */
const CREATE_ATTEMPTS = 16;

/**
 * Directories a write of this process is working in, with how many writes: this process's pruning leaves them and
 * their ancestors alone. Another process may still prune one under a writer; `inDirectory` retries for that.
 */
const writing = new Map<string, number>();

function busy(dir: string): boolean {
  for (const active of writing.keys()) if (active === dir || active.startsWith(dir + sep)) return true;
  return false;
}

/**
 * Runs `write` in `dir`, creating the directory if it is missing. A delete of a sibling key in another process may
 * prune `dir` between the two steps, which `write` sees as ENOENT, or while `mkdir` builds it, which `mkdir` reports
 * as ENOENT or ENOTDIR (a level it found vanished before it could check it): create the directory again and retry.
 * `write` must be safe to repeat (write a fresh temp file each time). A real ENOTDIR (a file where a directory
 * belongs) fails every attempt and surfaces.
 */
export async function inDirectory<T>(calls: FsCalls, dir: string, write: () => Promise<T>): Promise<T> {
  writing.set(dir, (writing.get(dir) ?? 0) + 1);
  try {
    return await createAndWrite(calls, dir, write);
  } finally {
    const left = writing.get(dir)! - 1;
    if (left === 0) writing.delete(dir);
    else writing.set(dir, left);
  }
}

async function createAndWrite<T>(calls: FsCalls, dir: string, write: () => Promise<T>): Promise<T> {
  // Most writes land in a directory that exists: try first, and create it only when it is missing.
  try {
    return await write();
  } catch (err) {
    if (!hasCode(err, 'ENOENT')) throw err;
  }
  for (let attempt = 1; ; attempt++) {
    const last = attempt >= CREATE_ATTEMPTS;
    try {
      await calls.mkdirs(dir);
    } catch (err) {
      if (last || !hasCode(err, 'ENOENT', 'ENOTDIR')) throw err;
      continue;
    }
    try {
      return await write();
    } catch (err) {
      if (last || !hasCode(err, 'ENOENT')) throw err;
    }
  }
}

/**
 * Removes `fromDir` and its ancestors while they are empty, up to `stopDir` (never removed; nothing is when it is
 * not an ancestor). Best effort: a directory a writer just refilled stops the walk (ENOTEMPTY), and one another
 * deleter already removed is stepped over. A directory a write of this process is working in stops it too.
 */
export async function pruneEmptyParents(calls: FsCalls, stopDir: string, fromDir: string): Promise<void> {
  for (let dir = fromDir; dir.startsWith(stopDir + sep); dir = dirname(dir)) {
    if (busy(dir)) return;
    try {
      await calls.rmdir(dir);
    } catch (err) {
      if (!hasCode(err, 'ENOENT')) return;
    }
  }
}

/** Makes a rename/link/unlink inside `dir` durable. Platforms that cannot fsync a directory are tolerated. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    if (!hasCode(err, 'EINVAL', 'EBADF', 'EPERM', 'EISDIR', 'ENOENT')) throw err;
  } finally {
    await handle?.close();
  }
}

export async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `body` to a fresh temp file in `dir` (which must exist) and returns its path. */
export async function writeTempFile(calls: FsCalls, dir: string, body: Buffer, syncToDisk: boolean): Promise<string> {
  const path = join(dir, tempName());
  try {
    if (syncToDisk) await writeAndSync(path, body);
    else await calls.writeNew(path, body);
  } catch (err) {
    await removeQuietly(calls, path);
    throw err;
  }
  return path;
}

async function writeAndSync(path: string, body: Buffer): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(body);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Cleanup of our own temp file; failing to remove it must not mask the error that got us here. */
export async function removeQuietly(calls: FsCalls, path: string): Promise<void> {
  try {
    await calls.unlink(path);
  } catch {
    // Already gone, or a leftover temp file: hidden from listings and harmless.
  }
}

export async function isRegularFile(calls: FsCalls, path: string): Promise<boolean> {
  try {
    return (await calls.lstat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Removes everything that is in `dir` when each level is read. A writer racing the removal may refill a directory
 * after it was read: its key is newer than this delete and survives (rmdir's ENOTEMPTY is not an error), which is
 * what `fs.rm` cannot express.
 */
export async function removeTree(calls: FsCalls, dir: string): Promise<void> {
  let entries;
  try {
    entries = await calls.readdir(dir);
  } catch (err) {
    if (hasCode(err, 'ENOENT', 'ENOTDIR')) return;
    throw err;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      await removeTree(calls, path);
      continue;
    }
    try {
      await calls.unlink(path);
    } catch (err) {
      if (!hasCode(err, 'ENOENT')) throw err;
    }
  }
  try {
    await calls.rmdir(dir);
  } catch (err) {
    if (!hasCode(err, 'ENOENT', 'ENOTEMPTY', 'EEXIST')) throw err;
  }
}
