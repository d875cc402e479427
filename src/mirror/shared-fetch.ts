import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

/** An upstream body being fetched, and its size (the upstream's `Content-Length`). */
export interface Fetched {
  readonly size: number;
  readonly body: Readable;
}

const READ_CHUNK = 256 * 1024;
/** Downloaded bytes allowed to wait for the disk. */
const SPOOL_AHEAD = 8 * 1024 * 1024;

/**
 * One upstream download spooled to an unlinked temporary file, read by every client that joined it. A reader that
 * keeps up takes each chunk from memory as it arrives (it is "live"); one that falls behind, or joined late, reads
 * from the file until it has caught up.
 */
class Spool {
  readonly size: number;
  readonly #file: FileHandle;
  readonly #progress = new EventEmitter();
  readonly #readers = new Set<SpoolReader>();
  /** Bytes taken from the upstream, and of those, bytes on disk. */
  #received = 0;
  #written = 0;
  /** Received chunks not on disk yet, and the write putting them there. */
  readonly #unwritten: Buffer[] = [];
  #writing: Promise<void> | undefined;
  #failure: Error | undefined;
  #finished = false;
  readonly #source: Readable;
  /** Takes the spool out of the shared set: no client may join it any more. */
  readonly #retire: () => void;

  constructor(file: FileHandle, fetched: Fetched, retire: () => void) {
    this.size = fetched.size;
    this.#file = file;
    this.#source = fetched.body;
    this.#retire = retire;
    this.#progress.setMaxListeners(0);
    void this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      for await (const chunk of this.#source as AsyncIterable<Buffer>) {
        if (this.#received + chunk.length > this.size) throw new Error(`upstream sent more than its Content-Length of ${this.size} bytes`);
        const at = this.#received;
        this.#received += chunk.length;
        for (const reader of this.#readers) reader.offer(chunk, at);
        this.#unwritten.push(chunk);
        this.#writing ??= this.#writeBehind();
        if (this.#received - this.#written > SPOOL_AHEAD) await this.#writing;
      }
      await this.#writing;
      if (this.#received !== this.size) throw new Error(`upstream body ended at ${this.#received} of ${this.size} bytes`);
    } catch (err) {
      await this.#writing?.catch(() => undefined);
      this.#failure = err instanceof Error ? err : new Error(String(err));
    }
    this.#finished = true;
    this.#retire();
    this.#progress.emit('progress');
    for (const reader of this.#readers) reader.settle(this.#failure);
    await this.#closeWhenUnread();
  }

  /**
   * Writes what the download received, in order, behind it: chunks that arrived during one write go to disk together
   * in the next, so a slow disk call never stalls the live readers and the calls stay few.
   */
  async #writeBehind(): Promise<void> {
    try {
      while (this.#unwritten.length > 0) {
        const batch = this.#unwritten.splice(0);
        const size = batch.reduce((sum, chunk) => sum + chunk.length, 0);
        const { bytesWritten } = await this.#file.writev(batch, this.#written);
        // A short write (rare on a regular file) leaves the rest at the head of the queue.
        if (bytesWritten < size) this.#unwritten.unshift(Buffer.concat(batch).subarray(bytesWritten));
        this.#written += bytesWritten;
        this.#progress.emit('progress');
      }
    } finally {
      this.#writing = undefined;
    }
  }

  /**
   * A stream of the whole body from byte 0, following the download as it grows; a `deferred` one starts reading only
   * once the download is complete, so it takes no CPU from the clients meanwhile.
   */
  reader(deferred = false): Readable {
    const reader = new SpoolReader(this, deferred);
    this.#readers.add(reader);
    return reader.stream;
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** What a reader at `position` can do next: read the file, take chunks live, wait, or stop. */
  state(position: number): 'end' | 'file' | 'live' | 'wait' | Error {
    if (position === this.size) return 'end';
    if (position < this.#written) return 'file';
    if (this.#failure) return this.#failure;
    if (this.#finished) return new Error('upstream body ended early');
    return position === this.#received ? 'live' : 'wait';
  }

  readable(position: number): number {
    return this.#written - position;
  }

  async readAt(position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await this.#file.read(buffer, 0, length, position);
    return bytesRead === length ? buffer : buffer.subarray(0, bytesRead);
  }

  /** Resolves at the next chunk written or the end of the download. */
  moved(): Promise<void> {
    return new Promise((resolve) => this.#progress.once('progress', resolve));
  }

  left(reader: SpoolReader): void {
    if (!this.#readers.delete(reader)) return;
    // Nobody reads any more: stop downloading what no one will get (the cache fill fetches on its own).
    if (this.#readers.size === 0 && !this.#finished) {
      this.#retire();
      this.#source.destroy(new Error('every reader left'));
    }
    void this.#closeWhenUnread();
  }

  async #closeWhenUnread(): Promise<void> {
    if (this.#readers.size === 0 && this.#finished) await this.#file.close().catch(() => undefined);
  }
}

/** One client's stream over a spool. */
class SpoolReader {
  readonly stream: Readable;
  readonly #spool: Spool;
  readonly #deferred: boolean;
  #position = 0;
  /** Takes chunks from memory as the spool receives them; off once the stream's buffer is full. */
  #live = false;

  constructor(spool: Spool, deferred: boolean) {
    this.#spool = spool;
    this.#deferred = deferred;
    this.stream = new Readable({
      highWaterMark: READ_CHUNK,
      read: () => void this.#next().catch((err: Error) => this.stream.destroy(err)),
      destroy: (err, callback) => {
        this.#spool.left(this);
        callback(err);
      },
    });
  }

  offer(chunk: Buffer, at: number): void {
    if (!this.#live || at !== this.#position) return;
    this.#position += chunk.length;
    if (!this.stream.push(chunk)) this.#live = false;
    if (this.#position === this.#spool.size) this.#end();
  }

  settle(failure: Error | undefined): void {
    if (!this.#live) return;
    if (failure) this.stream.destroy(failure);
    else if (this.#position === this.#spool.size) this.#end();
  }

  #end(): void {
    this.#live = false;
    this.stream.push(null);
  }

  async #next(): Promise<void> {
    while (this.#deferred && !this.#spool.finished) await this.#spool.moved();
    for (;;) {
      const state = this.#spool.state(this.#position);
      if (state instanceof Error) throw state;
      switch (state) {
        case 'end':
          this.#end();
          return;
        case 'live':
          this.#live = true;
          return;
        case 'file': {
          const chunk = await this.#spool.readAt(this.#position, Math.min(READ_CHUNK, this.#spool.readable(this.#position)));
          this.#position += chunk.length;
          this.stream.push(chunk);
          return;
        }
        case 'wait':
          await this.#spool.moved();
      }
    }
  }
}

/**
 * Concurrent cold pulls of one blob share one upstream download (docs/pull-through.md, "Blob misses"): the first
 * client's request starts it into a spool file that is unlinked at once (nothing is left behind, whatever happens to
 * the process), and every client streams from that file at its own pace. Bytes are never kept in memory, and a spool
 * is never promoted into storage: the cache fill job fetches and verifies the blob on its own.
 */
export class SharedFetches {
  readonly #inFlight = new Map<string, Promise<Spool>>();
  readonly #dir: string;

  constructor(dir = tmpdir()) {
    this.#dir = dir;
  }

  /**
   * A reader of the download in flight under `key`, from byte 0, that starts once the download is complete (a cache
   * fill: the clients' downloads go first); undefined when there is none (or it failed to start).
   */
  async join(key: string): Promise<Fetched | undefined> {
    const spool = await this.#inFlight.get(key)?.catch(() => undefined);
    return spool && { size: spool.size, body: spool.reader(true) };
  }

  /** Joins the download in flight under `key`, or starts one with `start`. */
  async open(key: string, start: () => Promise<Fetched>): Promise<Fetched & { started: boolean }> {
    const joined = this.#inFlight.get(key);
    if (joined) {
      const spool = await joined;
      return { size: spool.size, body: spool.reader(), started: false };
    }
    const retire = () => {
      if (this.#inFlight.get(key) === starting) this.#inFlight.delete(key);
    };
    const starting = this.#start(start, retire);
    this.#inFlight.set(key, starting);
    starting.catch(retire);
    const spool = await starting;
    return { size: spool.size, body: spool.reader(), started: true };
  }

  async #start(start: () => Promise<Fetched>, retire: () => void): Promise<Spool> {
    const fetched = await start();
    const path = join(this.#dir, `angos-spool-${randomUUID()}`);
    let file: FileHandle;
    try {
      file = await open(path, 'wx+', 0o600);
      await unlink(path);
    } catch (err) {
      fetched.body.destroy();
      throw err;
    }
    return new Spool(file, fetched, retire);
  }
}
