import type { FileHandle } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { CopyableBody } from '../body.ts';

/** Read size for blob bodies: far fewer syscalls and socket writes per byte than the 64 KiB stream default. */
const CHUNK = 512 * 1024;
/** Buffers one copy cycles through: the next read proceeds while the previous chunks drain to the socket. */
const DEPTH = 3;

/** Where a download's copy buffers come from and go back to (the process's memory policy may keep them). */
export interface BufferSource {
  take(size: number): Buffer;
  /** Only buffers no pending write refers to any more come back. */
  give(buffer: Buffer): void;
}

/** A fresh buffer per download, nothing kept. */
export const FRESH_BUFFERS: BufferSource = { take: (size) => Buffer.allocUnsafeSlow(size), give: () => {} };

/**
 * The bytes of an open file from `start` to `end` (exclusive), or to end of file when `end` is undefined: then no
 * `fstat` is needed, and the blob path has already looked the size up. As a stream it reads into fresh buffers;
 * `copyInto` reads into `DEPTH` reused ones instead, each handed back only once the destination has flushed it.
 */
export class FileBody extends Readable implements CopyableBody {
  readonly #handle: FileHandle;
  #position: number;
  readonly #end: number | undefined;
  readonly #buffers: BufferSource;
  #ended = false;

  constructor(handle: FileHandle, start: number, end: number | undefined, buffers: BufferSource = FRESH_BUFFERS) {
    super({ highWaterMark: CHUNK });
    this.#handle = handle;
    this.#position = start;
    this.#end = end;
    this.#buffers = buffers;
  }

  override _read(size: number): void {
    const length = this.#nextLength(Math.max(size, CHUNK));
    if (length === 0) {
      this.push(null);
      return;
    }
    this.#readChunk(Buffer.allocUnsafe(length)).then(
      (chunk) => this.push(chunk.length > 0 ? chunk : null),
      (err: Error) => this.destroy(err),
    );
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#handle.close().then(
      () => callback(err),
      (closeErr: Error) => callback(err ?? closeErr),
    );
  }

  async copyInto(dest: Writable): Promise<void> {
    // Rejects when the destination closes or fails before it has finished: a client gone mid-download.
    const destDone = finished(dest);
    destDone.catch(() => {});
    const buffers = Array.from({ length: DEPTH }, () => this.#buffers.take(CHUNK));
    const flushed: Array<Promise<void>> = [];
    try {
      for (let i = 0; this.#nextLength(CHUNK) > 0; i++) {
        if (flushed.length === DEPTH) await Promise.race([flushed.shift(), destDone]);
        const chunk = await this.#readChunk(buffers[i % DEPTH]!.subarray(0, this.#nextLength(CHUNK)));
        if (chunk.length === 0) break;
        const written = writeFlushed(dest, chunk);
        written.catch(() => {}); // awaited below; an early close is reported by destDone instead
        flushed.push(written);
      }
      await Promise.race([Promise.all(flushed), destDone]);
      // Every write has flushed, so nothing refers to the buffers any more. After a failure a write may still be
      // pending on them: they are left to the collector then.
      for (const buffer of buffers) this.#buffers.give(buffer);
      dest.end();
      await destDone;
    } finally {
      this.destroy();
    }
  }

  /** Bytes to ask for next, at most `wanted`; 0 once the span is done. */
  #nextLength(wanted: number): number {
    if (this.#ended) return 0;
    return this.#end === undefined ? wanted : Math.min(wanted, this.#end - this.#position);
  }

  /**
   * Reads into `buffer` from the current position; an empty result is the end of the file. A file shorter than an
   * explicit `end` is an error, not a short body.
   */
  async #readChunk(buffer: Buffer): Promise<Buffer> {
    const { bytesRead } = await this.#handle.read(buffer, 0, buffer.length, this.#position);
    if (bytesRead === 0) {
      if (this.#end !== undefined) throw new Error(`file ended ${this.#end - this.#position} bytes early`);
      this.#ended = true;
    }
    this.#position += bytesRead;
    return buffer.subarray(0, bytesRead);
  }
}

function writeFlushed(dest: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => dest.write(chunk, (err) => (err ? reject(err) : resolve())));
}
