import { ByteQueue } from './byte-queue.ts';
import type { MultipartApi, PartCursor } from './multipart-api.ts';

/** Turns the bytes of one chunked write into multipart parts; what it cannot turn into a part is parked by the caller. */
export interface ChunkWriter {
  /** Bytes in parts 1..n so far: the committed offset once the write commits. */
  readonly offset: number;
  /** Set when a storage call failed: the write must then commit nothing. */
  readonly storageFailed: boolean;
  /** The parked remainder of the previous write, which comes first. */
  prepend(bytes: Buffer): void;
  append(bytes: Buffer): Promise<void>;
  /** Flushes what belongs in parts and resolves with the remainder to park. */
  finish(): Promise<Buffer>;
}

/** What both chunk writers share: the byte queue, the upload's part cursor, and the storage-failure flag. */
export abstract class QueuedWriter implements ChunkWriter {
  protected readonly api: MultipartApi;
  protected readonly bucketKey: string;
  protected readonly queue = new ByteQueue();
  #cursor: PartCursor | undefined;
  offset: number;
  storageFailed = false;

  constructor(api: MultipartApi, bucketKey: string, offset: number) {
    this.api = api;
    this.bucketKey = bucketKey;
    this.offset = offset;
  }

  prepend(bytes: Buffer): void {
    this.queue.unshift(bytes);
  }

  abstract append(bytes: Buffer): Promise<void>;
  abstract finish(): Promise<Buffer>;

  /**
   * The upload's multipart upload and the number its next part takes. Looked up when the first part is ready, so a
   * write under one part opens nothing; the caller advances `nextPart` once the part is in.
   */
  protected async cursor(): Promise<PartCursor> {
    this.#cursor ??= await this.api.cursorAt(this.bucketKey, this.offset);
    return this.#cursor;
  }

  /** Runs storage calls, flagging a failure so the write commits nothing. */
  protected async guard(call: () => Promise<void>): Promise<void> {
    try {
      await call();
    } catch (err) {
      this.storageFailed = true;
      throw err;
    }
  }
}

/**
 * Cuts the bytes of one write into parts of exactly `partSize`, holding at most one part plus one incoming chunk
 * (uniform mode, and non-uniform chunked writes when `partSize` is S3's 5 MiB minimum).
 */
export class PartWriter extends QueuedWriter {
  readonly #partSize: number;

  constructor(api: MultipartApi, bucketKey: string, offset: number, partSize: number) {
    super(api, bucketKey, offset);
    this.#partSize = partSize;
  }

  async append(bytes: Buffer): Promise<void> {
    this.queue.push(bytes);
    while (this.queue.length >= this.#partSize) {
      const part = this.queue.take(this.#partSize);
      await this.guard(async () => {
        const cursor = await this.cursor();
        await this.api.uploadPart(this.bucketKey, cursor.uploadId, cursor.nextPart, part);
        cursor.nextPart++;
      });
      this.offset += part.length;
    }
  }

  async finish(): Promise<Buffer> {
    return this.queue.take(this.queue.length);
  }
}
