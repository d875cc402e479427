import { closeSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmdirSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import type { Dirent, Stats } from 'node:fs';
import { link, lstat, mkdir, open, readdir, rename, rmdir, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { logger } from '../../observability/logging.ts';

const log = logger('angos::storage::fs');

/** Whole-file writes up to this size may run inline; larger bodies always go through the thread pool. */
const INLINE_WRITE_MAX = 64 * 1024;
/** One inline call over `callMs`, or a running mean over `meanMs`, moves the store to the thread pool. */
export interface SlowCallLimits {
  readonly callMs: number;
  readonly meanMs: number;
}
// One stall (a descheduled VM) must not trip the mean: it takes ~35 calls of 2 ms in a row to cross 1 ms.
const SLOW: SlowCallLimits = { callMs: 100, meanMs: 1 };
const MEAN_WEIGHT = 0.02;

/**
 * The metadata calls of the filesystem store: mkdir, rmdir, rename, link, unlink, stat, readdir and writes of a
 * few KiB. On a local filesystem each takes microseconds, while a trip through libuv's thread pool costs tens to
 * hundreds of microseconds of hand-off (a small image push makes ~25 such calls per request): so they run inline on
 * the event loop. Where they are slow (network storage, a cold disk) an inline call would stall every request
 * instead, so the store watches their duration and, once one call or their running mean is over the `SLOW`
 * limits, sends every later call through the thread pool. Errors are the same either way (same `code`s).
 * Large reads and writes, fsync and listings always use the thread pool.
 */
export class FsCalls {
  readonly #rootDir: string;
  readonly #slow: SlowCallLimits;
  #inline = true;
  #meanMs = 0;

  constructor(rootDir: string, slow: SlowCallLimits = SLOW) {
    this.#rootDir = rootDir;
    this.#slow = slow;
  }

  /** Whether calls still run on the event loop. */
  get inline(): boolean {
    return this.#inline;
  }

  /** `mkdir -p`. */
  mkdirs(dir: string): Promise<unknown> {
    return this.#run(
      () => mkdirSync(dir, { recursive: true }),
      () => mkdir(dir, { recursive: true }),
    );
  }

  rmdir(dir: string): Promise<void> {
    return this.#run(() => rmdirSync(dir), () => rmdir(dir));
  }

  unlink(path: string): Promise<void> {
    return this.#run(() => unlinkSync(path), () => unlink(path));
  }

  rename(from: string, to: string): Promise<void> {
    return this.#run(() => renameSync(from, to), () => rename(from, to));
  }

  /** Sets the modification (and access) time to now. */
  touch(path: string): Promise<void> {
    const now = new Date();
    return this.#run(() => utimesSync(path, now, now), () => utimes(path, now, now));
  }

  link(existing: string, name: string): Promise<void> {
    return this.#run(() => linkSync(existing, name), () => link(existing, name));
  }

  stat(path: string): Promise<Stats> {
    return this.#run(() => statSync(path), () => stat(path));
  }

  lstat(path: string): Promise<Stats> {
    return this.#run(() => lstatSync(path), () => lstat(path));
  }

  readdir(dir: string): Promise<Dirent[]> {
    return this.#run(() => readdirSync(dir, { withFileTypes: true }), () => readdir(dir, { withFileTypes: true }));
  }

  /** Creates `path`, which must not exist, holding `body` (at most `INLINE_WRITE_MAX` bytes to run inline). */
  async writeNew(path: string, body: Buffer): Promise<void> {
    if (body.length > INLINE_WRITE_MAX) return writeFile(path, body, { flag: 'wx' });
    return this.#run(() => writeFileSync(path, body, { flag: 'wx' }), () => writeFile(path, body, { flag: 'wx' }));
  }

  /** Creates `path` empty, truncating whatever was there. */
  createEmpty(path: string): Promise<void> {
    return this.#run(
      () => closeSync(openSync(path, 'w')),
      async () => (await open(path, 'w')).close(),
    );
  }

  #run<T>(inline: () => T, pooled: () => Promise<T>): Promise<T> {
    if (!this.#inline) return pooled();
    const started = performance.now();
    try {
      return Promise.resolve(inline());
    } catch (err) {
      return Promise.reject(err as Error);
    } finally {
      this.#observe(performance.now() - started);
    }
  }

  #observe(ms: number): void {
    this.#meanMs += (ms - this.#meanMs) * MEAN_WEIGHT;
    if (ms <= this.#slow.callMs && this.#meanMs <= this.#slow.meanMs) return;
    this.#inline = false;
    log.warn('filesystem metadata calls are slow here; moving them to the thread pool', {
      root_dir: this.#rootDir,
      call_ms: Number(ms.toFixed(2)),
      mean_ms: Number(this.#meanMs.toFixed(3)),
    });
  }
}
