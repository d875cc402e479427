import { constants, statSync } from 'node:fs';
import { copyFile, open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type {
  ByteRange,
  Child,
  CleanupOptions,
  ChildrenPage,
  ListOptions,
  ListPage,
  ObjectMeta,
  ObjectStore,
} from '../object-store.ts';
import { NotFoundError } from '../object-store.ts';
import {
  inDirectory,
  isRegularFile,
  pruneEmptyParents,
  removeQuietly,
  removeTree,
  syncDirectory,
  syncFile,
  writeTempFile,
} from './directories.ts';
import { hasCode, isAbsent, orNotFound } from './errno.ts';
import { FsCalls } from './fs-calls.ts';
import { keyPath, normalizePrefix, tempName } from './key-path.ts';
import { appendStream } from './append-sink.ts';
import { FileBody, FRESH_BUFFERS, type BufferSource } from './file-body.ts';
import { childrenOf, keysUnder } from './listing.ts';
import { collectPage, pageLimit } from '../paging.ts';

export interface FsObjectStoreOptions {
  rootDir: string;
  /** fsync written files before they become visible, and their directory afterwards (`sync_to_disk`). */
  syncToDisk?: boolean;
  /** What the process's memory policy lends the store (`src/runtime/`); none: fresh buffers, no collections asked for. */
  memory?: FsMemory;
}

/** The parts of the process's memory policy the filesystem store uses. */
export interface FsMemory {
  /** Told of upload bytes appended (and so dropped by the request body). */
  bodyBytesConsumed(bytes: number): void;
  /** Copy buffers for downloads. */
  downloadBuffers: BufferSource;
}

const NO_MEMORY_POLICY: FsMemory = { bodyBytesConsumed: () => {}, downloadBuffers: FRESH_BUFFERS };

/**
 * Writes through any filesystem store of this process. Inline calls can run a whole request in one event-loop turn,
 * so a turn's shared stamps must also drop when another store of the process (a second registry on the same root)
 * writes, not only this one.
 */
let writes = 0;

/**
 * Keys map one to one to files under `rootDir`. Whole objects appear atomically (temp file + rename or link),
 * so any number of processes may share the root with no lock; uploads are plain files appended in place.
 */
export class FsObjectStore implements ObjectStore {
  readonly rootDir: string;
  readonly syncToDisk: boolean;
  readonly #calls: FsCalls;
  readonly #memory: FsMemory;
  readonly #stampsThisTurn = new Map<string, string | undefined>();
  /** `writes` when the shared stamps were read: another store of this process that wrote since makes them stale. */
  #stampsAtWrite = 0;

  constructor(options: FsObjectStoreOptions) {
    if (options.rootDir === '') throw new Error('filesystem store: root_dir must not be empty');
    this.rootDir = resolve(options.rootDir);
    this.syncToDisk = options.syncToDisk ?? false;
    this.#memory = options.memory ?? NO_MEMORY_POLICY;
    this.#calls = new FsCalls(this.rootDir);
  }

  async get(key: string): Promise<Buffer> {
    return orNotFound(key, this.#calls.readFile(this.pathOf(key)));
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable> {
    const start = range?.start ?? 0;
    const end = range?.end;
    if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
      throw new RangeError(`invalid byte range ${start}-${end ?? ''} for ${key}`);
    }
    // Opening first makes absence reject this promise instead of erroring the stream later.
    const handle = await this.openObject(key, 'r');
    return new FileBody(handle, start, end === undefined ? undefined : end + 1, this.#memory.downloadBuffers);
  }

  async head(key: string): Promise<ObjectMeta> {
    const stats = await orNotFound(key, this.#calls.stat(this.pathOf(key)));
    if (!stats.isFile()) throw new NotFoundError(key);
    return { size: stats.size, lastModified: stats.mtime };
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    return this.mutating(async () => {
      const target = this.pathOf(key);
      const dir = dirname(target);
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      await inDirectory(this.#calls, dir, async () => {
        const temp = await writeTempFile(this.#calls, dir, bytes, this.syncToDisk);
        try {
          await this.#calls.rename(temp, target);
        } catch (err) {
          await removeQuietly(this.#calls, temp);
          throw err;
        }
      });
      if (this.syncToDisk) await syncDirectory(dir);
    });
  }

  async createIfAbsent(key: string, body: Buffer | string): Promise<boolean> {
    return this.mutating(async () => {
      const target = this.pathOf(key);
      const dir = dirname(target);
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      // link(2) never replaces, and the linked file is complete before its name exists: a reader never sees half.
      const created = await inDirectory(this.#calls, dir, async () => {
        const temp = await writeTempFile(this.#calls, dir, bytes, this.syncToDisk);
        try {
          await this.#calls.link(temp, target);
          return true;
        } catch (err) {
          if (hasCode(err, 'EEXIST')) return false;
          throw err;
        } finally {
          await removeQuietly(this.#calls, temp);
        }
      });
      if (created && this.syncToDisk) await syncDirectory(dir);
      return created;
    });
  }

  async delete(key: string, options: CleanupOptions = {}): Promise<void> {
    return this.mutating(async () => {
      const path = this.pathOf(key);
      try {
        await this.#calls.unlink(path);
      } catch (err) {
        if (isAbsent(err)) return;
        throw err;
      }
      await this.#prune(dirname(path), options);
    });
  }

  async deletePrefix(prefix: string, options: CleanupOptions = {}): Promise<void> {
    return this.mutating(async () => {
      const normalized = normalizePrefix(prefix);
      if (normalized === '') return;
      const dir = this.pathOf(normalized);
      // A key equal to the prefix is not under `prefix/`; only a directory is.
      if (!(await this.#isDirectory(dir))) return;
      await removeTree(this.#calls, dir);
      await this.#prune(dirname(dir), options);
    });
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    const limit = pageLimit(options.limit);
    const normalized = normalizePrefix(prefix);
    const dir = normalized === '' ? this.rootDir : this.pathOf(normalized);
    const keyPrefix = normalized === '' ? '' : `${normalized}/`;
    const startAfter = options.startAfter === undefined ? undefined : Buffer.from(options.startAfter);
    return collectPage(keysUnder(this.#calls, dir, keyPrefix, startAfter), limit);
  }

  async listChildren(prefix: string, options: ListOptions = {}): Promise<ChildrenPage> {
    const limit = pageLimit(options.limit);
    const normalized = normalizePrefix(prefix);
    const dir = normalized === '' ? this.rootDir : this.pathOf(normalized);
    const children: Child[] = [];
    let lastToken = '';
    for await (const child of childrenOf(this.#calls, dir, options.startAfter)) {
      if (children.length === limit) return { children, next: lastToken };
      children.push({ name: child.name, isPrefix: child.isPrefix });
      lastToken = child.token;
    }
    return { children };
  }

  /**
   * Synchronous stat on purpose: a stat of a cached inode costs a few microseconds, a thread-pool round trip
   * several times that, and stamps are checked on every manifest and listing request. Requests handled in one
   * event-loop turn share a stamp: they are concurrent, so any of them may see the state at the first one's
   * read; a write through this store drops the shared stamps at once, so a reader still sees its own writes.
   */
  async changeStamps(prefixes: readonly string[]): Promise<Array<string | undefined>> {
    return prefixes.map((prefix) => this.#stamp(prefix));
  }

  #stamp(prefix: string): string | undefined {
    if (this.#stampsAtWrite !== writes) {
      this.#stampsThisTurn.clear();
      this.#stampsAtWrite = writes;
    }
    if (this.#stampsThisTurn.has(prefix)) return this.#stampsThisTurn.get(prefix);
    if (this.#stampsThisTurn.size === 0) setImmediate(() => this.#stampsThisTurn.clear());
    const stamp = this.#readStamp(prefix);
    this.#stampsThisTurn.set(prefix, stamp);
    return stamp;
  }

  #readStamp(prefix: string): string | undefined {
    const stats = statSync(this.pathOf(normalizePrefix(prefix)), { throwIfNoEntry: false });
    if (!stats) return 'absent';
    if (!stats.isDirectory()) return undefined;
    // Two changes within one timestamp tick leave mtime alone: a directory changed too recently is not vouched for
    // (git's "racy" rule). Whole-second stamps mean a coarse filesystem: wait out a full second there.
    const tickMs = stats.mtimeMs % 1000 === 0 ? 1000 : 100;
    if (Date.now() - stats.mtimeMs < tickMs) return undefined;
    return `${stats.ino}:${stats.mtimeMs}`;
  }

  /** Runs a write; afterwards no stamp read before it is handed out again. */
  private async mutating<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      writes++;
      this.#stampsThisTurn.clear();
    }
  }

  async copy(from: string, to: string): Promise<void> {
    return this.mutating(async () => {
      const source = this.pathOf(from);
      const target = this.pathOf(to);
      const dir = dirname(target);
      await inDirectory(this.#calls, dir, async () => {
        const temp = join(dir, tempName());
        try {
          await copyFile(source, temp, constants.COPYFILE_EXCL);
          if (this.syncToDisk) await syncFile(temp);
          await this.#calls.rename(temp, target);
        } catch (err) {
          await removeQuietly(this.#calls, temp);
          if (!(await isRegularFile(this.#calls, source))) throw new NotFoundError(from);
          throw err;
        }
      });
      if (this.syncToDisk) await syncDirectory(dir);
    });
  }

  async move(from: string, to: string, options: CleanupOptions = {}): Promise<void> {
    return this.mutating(async () => {
      const source = this.pathOf(from);
      const target = this.pathOf(to);
      // rename(2) would happily move a whole directory: only an object may move.
      if (!(await isRegularFile(this.#calls, source))) throw new NotFoundError(from);
      // The moved object is new where it lands, as an S3 copy is: the collector's age gate must not see a blob
      // promoted from a long-idle upload as old bytes nobody holds yet (docs/storage.md, "Garbage collection").
      await this.#calls.touch(source);
      await inDirectory(this.#calls, dirname(target), async () => {
        try {
          await this.#calls.rename(source, target);
        } catch (err) {
          if (!(await isRegularFile(this.#calls, source))) throw new NotFoundError(from);
          throw err;
        }
      });
      if (this.syncToDisk) await syncDirectory(dirname(target));
      await this.#prune(dirname(source), options);
    });
  }

  async createUpload(key: string): Promise<void> {
    const path = this.pathOf(key);
    // 'w' truncates: a new session must not inherit bytes leaked by an earlier one under the same key.
    await inDirectory(this.#calls, dirname(path), () => this.#calls.createEmpty(path));
    if (this.syncToDisk) await syncDirectory(dirname(path));
  }

  async writeUpload(key: string, body: Readable): Promise<number> {
    // No O_CREAT: appending to an upload that was never created, or was aborted, must fail, not resurrect it.
    const handle = await this.openObject(key, constants.O_WRONLY | constants.O_APPEND);
    try {
      const written = await appendStream(handle, body, this.#memory.bodyBytesConsumed);
      if (this.syncToDisk) await handle.sync();
      return written;
    } finally {
      await handle.close();
    }
  }

  async uploadSize(key: string): Promise<number> {
    return (await this.head(key)).size;
  }

  async completeUpload(key: string): Promise<number> {
    if (!this.syncToDisk) return this.uploadSize(key);
    const handle = await this.openObject(key, 'r');
    try {
      await handle.sync();
      return (await handle.stat()).size;
    } finally {
      await handle.close();
    }
  }

  async abortUpload(key: string): Promise<void> {
    await this.delete(key);
  }

  readonly canPresign = false;
  readonly partialUploadsReadable = true;

  async presign(): Promise<string | undefined> {
    return undefined;
  }

  private pathOf(key: string): string {
    return keyPath(this.rootDir, key);
  }

  /** Opens an existing object; a directory at the key is absence, as for every read. */
  private async openObject(key: string, flags: string | number): Promise<FileHandle> {
    const handle = await orNotFound(key, open(this.pathOf(key), flags));
    try {
      if (!(await handle.stat()).isFile()) throw new NotFoundError(key);
    } catch (err) {
      await handle.close();
      throw err;
    }
    return handle;
  }

  /** Removes `fromDir` and its ancestors while empty, up to the root or the kept prefix's directory (excluded). */
  #prune(fromDir: string, { keep }: CleanupOptions): Promise<void> {
    return pruneEmptyParents(this.#calls, keep === undefined ? this.rootDir : this.pathOf(keep), fromDir);
  }

  async #isDirectory(path: string): Promise<boolean> {
    try {
      return (await this.#calls.lstat(path)).isDirectory();
    } catch (err) {
      if (isAbsent(err)) return false;
      throw err;
    }
  }
}
