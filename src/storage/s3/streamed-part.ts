import { Readable } from 'node:stream';
import { toBuffer } from './byte-queue.ts';
import type { MultipartApi } from './multipart-api.ts';
import { MAX_PART_SIZE } from './part-limits.ts';

export interface StreamedWrite {
  api: MultipartApi;
  bucketKey: string;
  /** Bytes already in parts 1..n. */
  offset: number;
  /** The parked remainder, sent first. */
  remainder: Buffer;
  body: Readable;
  /** Exactly how many bytes `body` delivers. */
  length: number;
  /** No byte moving for this long aborts the part (`operation_attempt_timeout_secs`, on a streamed body). */
  stallMs: number;
}

/** The body did not deliver the length it declared; nothing was committed. */
export class BodyLengthError extends Error {
  constructor(delivered: number, declared: number) {
    super(`upload body delivered ${delivered} bytes, ${declared} were declared`);
    this.name = 'BodyLengthError';
  }
}

/**
 * Non-uniform mode for a write whose length is known (docs/storage.md, "S3 uploads"): the parked remainder and the
 * body go out as one streamed UploadPart, holding nothing but the chunk in flight. Above S3's 5 GiB part limit the
 * bytes are spread over the fewest equal parts. All or nothing: a body that fails part-way leaves no committed
 * bytes (the caller commits only on success), and the source's error is rethrown. Resolves with the new offset.
 */
export async function streamParts(write: StreamedWrite): Promise<number> {
  const total = write.remainder.length + write.length;
  const cursor = await write.api.cursorAt(write.bucketKey, write.offset);
  const iterator = (write.body as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  const controller = new AbortController();
  let sourceError: unknown;
  let carry = write.remainder;
  let delivered = 0;

  async function* partBytes(size: number): AsyncGenerator<Buffer> {
    for (let sent = 0; sent < size; ) {
      if (carry.length === 0) {
        let next: IteratorResult<unknown>;
        try {
          next = await iterator.next();
        } catch (err) {
          sourceError = err;
          controller.abort(err);
          throw err;
        }
        if (next.done === true) throw fail(new BodyLengthError(delivered, write.length));
        carry = toBuffer(next.value);
        delivered += carry.length;
        if (delivered > write.length) throw fail(new BodyLengthError(delivered, write.length));
      }
      const take = Math.min(carry.length, size - sent);
      yield carry.subarray(0, take);
      carry = carry.subarray(take);
      sent += take;
    }
  }
  function fail(err: Error): Error {
    sourceError = err;
    controller.abort(err);
    return err;
  }

  const stall = setTimeout(() => controller.abort(new Error(`S3 upload part stalled: no byte moved for ${write.stallMs} ms`)), write.stallMs);
  try {
    for (const [index, size] of partSizes(total).entries()) {
      const body = Readable.from(progress(partBytes(size), () => stall.refresh()));
      // Its failures reach the caller as `sourceError` or the aborted request; unheard, they would crash the process.
      body.on('error', () => undefined);
      try {
        await write.api.uploadPartStream(write.bucketKey, cursor.uploadId, cursor.nextPart + index, body, size, controller.signal);
      } catch (err) {
        body.destroy();
        if (sourceError !== undefined) throw sourceError;
        if (controller.signal.aborted) throw controller.signal.reason;
        throw err;
      }
    }
  } finally {
    clearTimeout(stall);
  }
  const extra = await iterator.next();
  if (extra.done !== true) throw new BodyLengthError(delivered + toBuffer(extra.value).length, write.length);
  return write.offset + total;
}

/** The fewest parts under S3's limit, equal but for the first taking the rounding. */
export function partSizes(total: number): number[] {
  const count = Math.max(1, Math.ceil(total / MAX_PART_SIZE));
  const each = Math.floor(total / count);
  return [total - each * (count - 1), ...Array<number>(count - 1).fill(each)];
}

async function* progress(source: AsyncGenerator<Buffer>, onChunk: () => void): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    onChunk();
    yield chunk;
  }
}
