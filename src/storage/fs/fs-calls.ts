import { closeSync, fstatSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmdirSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import type { Dirent, Stats } from 'node:fs';
import { link, lstat, mkdir, open, readdir, readFile, rename, rmdir, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { logger } from '../../observability/logging.ts';

const log = logger('angos::storage::fs');

/** Whole-file writes and reads up to this size may run inline; larger bodies always go through the thread pool. */
const INLINE_WRITE_MAX = 64 * 1024;
const INLINE_READ_MAX = 64 * 1024;
/**
 * Directories whose size is at most this are read inline. A directory's size grows with its entries on every
 * common filesystem (ext4: a 4 KiB block per ~50 digest-named entries), so this bounds an inline read to a few
 * hundred entries; one of 100,000 tags goes through the pool rather than stall every request.
 */
const INLINE_DIR_MAX = 32 * 1024;
/** One inline call over `callMs`, or a running mean over `meanMs`, moves that kind of call to the thread pool. */
export interface SlowCallLimits {
  readonly callMs: number;
  readonly meanMs: number;
}
// One stall (a descheduled VM) must not trip the mean: it takes ~35 calls of 2 ms in a row to cross 1 ms.
const SLOW: SlowCallLimits = { callMs: 100, meanMs: 1 };
const MEAN_WEIGHT = 0.02;

/** Kinds of call timed apart: on some disks (ext4 with `discard`) removals take milliseconds while the rest stay fast. */
type CallKind = 'mkdir' | 'rmdir' | 'unlink' | 'rename' | 'touch' | 'link' | 'stat' | 'readdir' | 'read' | 'write';

/** Whether one kind of call still runs inline, and its running mean. */
interface KindState {
  inline: boolean;
  meanMs: number;
}

/**
 * The metadata calls of the filesystem store: mkdir, rmdir, rename, link, unlink, stat, and reads and writes of small
 * files and directories. On a local filesystem each takes microseconds, while a trip through libuv's thread pool
 * costs tens to hundreds of microseconds of hand-off (a small image push makes ~25 such calls per request): so they
 * run inline on the event loop. Where they are slow (network storage, a cold disk) an inline call would stall every
 * request instead, so the store watches their duration per kind and, once one call or their running mean is over
 * the `SLOW` limits, sends every later call of that kind through the thread pool. Errors are the same either way
 * (same `code`s). Large reads and writes, large directories and fsync always use the thread pool.
 */
export class FsCalls {
  readonly #rootDir: string;
  readonly #slow: SlowCallLimits;
  readonly #kinds = new Map<CallKind, KindState>();

  constructor(rootDir: string, slow: SlowCallLimits = SLOW) {
    this.#rootDir = rootDir;
    this.#slow = slow;
  }

  /** Whether every kind of call still runs on the event loop. */
  get inline(): boolean {
    return [...this.#kinds.values()].every((state) => state.inline);
  }

  /** `mkdir -p`. */
  mkdirs(dir: string): Promise<unknown> {
    return this.#run(
      'mkdir',
      () => mkdirSync(dir, { recursive: true }),
      () => mkdir(dir, { recursive: true }),
    );
  }

  rmdir(dir: string): Promise<void> {
    return this.#run('rmdir', () => rmdirSync(dir), () => rmdir(dir));
  }

  unlink(path: string): Promise<void> {
    return this.#run('unlink', () => unlinkSync(path), () => unlink(path));
  }

  rename(from: string, to: string): Promise<void> {
    return this.#run('rename', () => renameSync(from, to), () => rename(from, to));
  }

  /** Sets the modification (and access) time to now. */
  touch(path: string): Promise<void> {
    const now = new Date();
    return this.#run('touch', () => utimesSync(path, now, now), () => utimes(path, now, now));
  }

  link(existing: string, name: string): Promise<void> {
    return this.#run('link', () => linkSync(existing, name), () => link(existing, name));
  }

  stat(path: string): Promise<Stats> {
    return this.#run('stat', () => statSync(path), () => stat(path));
  }

  lstat(path: string): Promise<Stats> {
    return this.#run('stat', () => lstatSync(path), () => lstat(path));
  }

  async readdir(dir: string): Promise<Dirent[]> {
    const small = await this.#run(
      'readdir',
      () => (statSync(dir).size > INLINE_DIR_MAX ? undefined : readdirSync(dir, { withFileTypes: true })),
      async () => undefined,
    );
    return small ?? readdir(dir, { withFileTypes: true });
  }

  /** A whole file: inline when it is small (metadata records, most manifests), through the pool otherwise. */
  async readFile(path: string): Promise<Buffer> {
    const small = await this.#run('read', () => readSmallSync(path), async () => undefined);
    return small ?? readFile(path);
  }

  /** Creates `path`, which must not exist, holding `body` (at most `INLINE_WRITE_MAX` bytes to run inline). */
  async writeNew(path: string, body: Buffer): Promise<void> {
    if (body.length > INLINE_WRITE_MAX) return writeFile(path, body, { flag: 'wx' });
    return this.#run('write', () => writeFileSync(path, body, { flag: 'wx' }), () => writeFile(path, body, { flag: 'wx' }));
  }

  /** Creates `path` empty, truncating whatever was there. */
  createEmpty(path: string): Promise<void> {
    return this.#run(
      'write',
      () => closeSync(openSync(path, 'w')),
      async () => (await open(path, 'w')).close(),
    );
  }

  #run<T>(kind: CallKind, inline: () => T, pooled: () => Promise<T>): Promise<T> {
    let state = this.#kinds.get(kind);
    if (state === undefined) this.#kinds.set(kind, (state = { inline: true, meanMs: 0 }));
    if (!state.inline) return pooled();
    const started = performance.now();
    try {
      return Promise.resolve(inline());
    } catch (err) {
      return Promise.reject(err as Error);
    } finally {
      this.#observe(kind, state, performance.now() - started);
    }
  }

  #observe(kind: CallKind, state: KindState, ms: number): void {
    state.meanMs += (ms - state.meanMs) * MEAN_WEIGHT;
    if (ms <= this.#slow.callMs && state.meanMs <= this.#slow.meanMs) return;
    state.inline = false;
    log.warn('filesystem metadata calls are slow here; moving them to the thread pool', {
      root_dir: this.#rootDir,
      call: kind,
      call_ms: Number(ms.toFixed(2)),
      mean_ms: Number(state.meanMs.toFixed(3)),
    });
  }
}

/** The file's bytes if it holds at most `INLINE_READ_MAX`, else undefined. */
function readSmallSync(path: string): Buffer | undefined {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > INLINE_READ_MAX) return undefined;
    const bytes = Buffer.allocUnsafe(size);
    let filled = 0;
    for (let read = -1; filled < size && read !== 0; filled += read) read = readSync(fd, bytes, filled, size - filled, filled);
    return filled === size ? bytes : bytes.subarray(0, filled);
  } finally {
    closeSync(fd);
  }
}
