import type { FileHandle } from 'node:fs/promises';
import { Writable, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';

/** Bytes buffered while a write is in flight; they go to disk together in the next `writev`. */
const BATCH_BYTES = 1024 * 1024;

/**
 * Appends a stream to an open file. Chunks that arrive while a write is in flight are gathered and written
 * with one `writev` (no concatenation copy), so a fast client costs a few large writes instead of one
 * thread-pool round trip per socket read. Backpressure: the source pauses once `BATCH_BYTES` wait.
 * A source error does not drop what was received: the buffered chunks are written, then the error is rethrown.
 */
export async function appendStream(handle: FileHandle, body: Readable, consumed: (bytes: number) => void): Promise<number> {
  const sink = new AppendSink(handle, consumed);
  let sourceError: unknown;
  body.once('error', (err) => {
    sourceError = err;
    body.unpipe(sink);
    sink.end();
  });
  sink.once('error', (err) => body.destroy(err));
  body.pipe(sink);
  await finished(sink);
  if (sourceError !== undefined) throw sourceError;
  return sink.written;
}

class AppendSink extends Writable {
  readonly #handle: FileHandle;
  /** Told of every byte written out (the memory policy's young collections, `src/runtime/`). */
  readonly #consumed: (bytes: number) => void;
  written = 0;

  constructor(handle: FileHandle, consumed: (bytes: number) => void) {
    super({ highWaterMark: BATCH_BYTES });
    this.#handle = handle;
    this.#consumed = consumed;
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#append([toBuffer(chunk)]).then(() => callback(), callback);
  }

  override _writev(chunks: Array<{ chunk: unknown }>, callback: (error?: Error | null) => void): void {
    this.#append(chunks.map(({ chunk }) => toBuffer(chunk))).then(() => callback(), callback);
  }

  /** A regular-file write may be short; loop until every byte is appended. */
  async #append(buffers: Buffer[]): Promise<void> {
    let pending = buffers;
    while (pending.length > 0) {
      const { bytesWritten } = await this.#handle.writev(pending);
      this.written += bytesWritten;
      this.#consumed(bytesWritten);
      pending = dropBytes(pending, bytesWritten);
    }
  }
}

function dropBytes(buffers: Buffer[], count: number): Buffer[] {
  let left = count;
  let index = 0;
  while (index < buffers.length && left >= buffers[index]!.length) left -= buffers[index++]!.length;
  const rest = buffers.slice(index);
  if (left > 0) rest[0] = rest[0]!.subarray(left);
  return rest;
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`upload body yielded a ${typeof chunk}, expected bytes`);
}
