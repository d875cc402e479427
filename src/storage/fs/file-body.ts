import type { FileHandle } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { CopyableBody } from '../body.ts';
import { CHUNK, giveBack, takeBuffer } from './copy-buffers.ts';
import { libcSendfile } from './libc-sendfile.ts';
import { sendFileTo, sendfileTarget, type FileCursor } from './socket-sendfile.ts';

/** Buffers one copy cycles through: the next read proceeds while the previous chunks drain to the socket. */
const DEPTH = 3;

/**
 * The bytes of an open file from `start` to `end` (exclusive), or to end of file when `end` is undefined: then no
 * `fstat` is needed, and the blob path has already looked the size up. As a stream it reads into fresh buffers.
 * `copyInto` a plain-TCP HTTP response sends the file with sendfile(2) (`socket-sendfile.ts`); into anything else
 * it reads into `DEPTH` reused buffers, each handed back only once the destination has flushed it.
 */
export class FileBody extends Readable implements CopyableBody {
  readonly #handle: FileHandle;
  #position: number;
  readonly #end: number | undefined;
  #ended = false;

  constructor(handle: FileHandle, start: number, end: number | undefined) {
    super({ highWaterMark: CHUNK });
    this.#handle = handle;
    this.#position = start;
    this.#end = end;
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
    try {
      const target = sendfileTarget(dest);
      const libc = target && this.#nextLength(CHUNK) > 0 ? await libcSendfile() : undefined;
      // Not raced against destDone: the file must stay open until no sendfile call can still be reading it.
      if (target !== undefined && libc !== undefined) await sendFileTo(target, this.#cursor(), libc);
      else await this.#copyThroughBuffers(dest, destDone);
      dest.end();
      await destDone;
    } finally {
      this.destroy();
    }
  }

  async #copyThroughBuffers(dest: Writable, destDone: Promise<void>): Promise<void> {
    const buffers = Array.from({ length: DEPTH }, takeBuffer);
    const flushed: Array<Promise<void>> = [];
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
    for (const buffer of buffers) giveBack(buffer);
  }

  #cursor(): FileCursor {
    const body = this;
    return {
      fd: this.#handle.fd,
      get position() {
        return body.#position;
      },
      nextLength: (wanted) => this.#nextLength(wanted),
      advance: (bytes) => this.#advance(bytes),
      readChunk: (buffer) => this.#readChunk(buffer),
    };
  }

  #advance(bytes: number): void {
    if (bytes === 0) this.#endOfFile();
    this.#position += bytes;
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
    this.#advance(bytesRead);
    return buffer.subarray(0, bytesRead);
  }

  #endOfFile(): void {
    if (this.#end !== undefined) throw new Error(`file ended ${this.#end - this.#position} bytes early`);
    this.#ended = true;
  }
}

function writeFlushed(dest: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => dest.write(chunk, (err) => (err ? reject(err) : resolve())));
}
