import type { FileHandle } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { CopyableBody } from '../body.ts';

/** Read size for blob bodies: far fewer syscalls and socket writes per byte than the 64 KiB stream default. */
const CHUNK = 512 * 1024;
/** Buffers one copy cycles through: the next read proceeds while the previous chunks drain to the socket. */
const DEPTH = 3;

/**
 * A byte span `[start, end)` of an open file. As a stream it reads into fresh buffers; `copyInto` reads into
 * `DEPTH` reused ones instead, each handed back only once the destination has flushed it.
 */
export class FileBody extends Readable implements CopyableBody {
  readonly #handle: FileHandle;
  #position: number;
  readonly #end: number;

  constructor(handle: FileHandle, start: number, end: number) {
    super({ highWaterMark: CHUNK });
    this.#handle = handle;
    this.#position = start;
    this.#end = end;
  }

  override _read(size: number): void {
    const length = Math.min(Math.max(size, CHUNK), this.#end - this.#position);
    if (length <= 0) {
      this.push(null);
      return;
    }
    this.#readChunk(Buffer.allocUnsafe(length)).then(
      (chunk) => this.push(chunk),
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
    const buffers = Array.from({ length: DEPTH }, () => Buffer.allocUnsafeSlow(CHUNK));
    const flushed: Array<Promise<void>> = [];
    try {
      for (let i = 0; this.#position < this.#end; i++) {
        if (flushed.length === DEPTH) await Promise.race([flushed.shift(), destDone]);
        const chunk = await this.#readChunk(buffers[i % DEPTH]!.subarray(0, Math.min(CHUNK, this.#end - this.#position)));
        const written = writeFlushed(dest, chunk);
        written.catch(() => {}); // awaited below; an early close is reported by destDone instead
        flushed.push(written);
      }
      await Promise.race([Promise.all(flushed), destDone]);
      dest.end();
      await destDone;
    } finally {
      this.destroy();
    }
  }

  /** Fills `buffer` from the current position; a file shorter than promised is an error, not a short body. */
  async #readChunk(buffer: Buffer): Promise<Buffer> {
    const { bytesRead } = await this.#handle.read(buffer, 0, buffer.length, this.#position);
    if (bytesRead === 0) throw new Error(`file ended ${this.#end - this.#position} bytes early`);
    this.#position += bytesRead;
    return buffer.subarray(0, bytesRead);
  }
}

function writeFlushed(dest: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => dest.write(chunk, (err) => (err ? reject(err) : resolve())));
}
