import type { MultipartUploads } from './s3-multipart.ts';

/**
 * Cuts the bytes of one write into parts of exactly `partSize`, holding at most one part plus one incoming chunk.
 * The multipart upload and its next part number are looked up only when the first part is ready.
 */
export class PartWriter {
  readonly #uploads: MultipartUploads;
  readonly #bucketKey: string;
  readonly #partSize: number;
  readonly #chunks: Buffer[] = [];
  #cursor: { uploadId: string; nextPart: number } | undefined;
  offset: number;
  buffered = 0;
  storageFailed = false;

  constructor(uploads: MultipartUploads, bucketKey: string, offset: number, partSize: number) {
    this.#uploads = uploads;
    this.#bucketKey = bucketKey;
    this.offset = offset;
    this.#partSize = partSize;
  }

  prepend(bytes: Buffer): void {
    this.#chunks.unshift(bytes);
    this.buffered += bytes.length;
  }

  async append(bytes: Buffer): Promise<void> {
    if (bytes.length === 0) return;
    this.#chunks.push(bytes);
    this.buffered += bytes.length;
    while (this.buffered >= this.#partSize) {
      const part = this.#take(this.#partSize);
      try {
        const cursor = await this.#open();
        await this.#uploads.uploadPart(this.#bucketKey, cursor.uploadId, cursor.nextPart, part);
        cursor.nextPart++;
      } catch (err) {
        this.storageFailed = true;
        throw err;
      }
      this.offset += part.length;
    }
  }

  remainder(): Buffer {
    return this.#take(this.buffered);
  }

  async #open(): Promise<{ uploadId: string; nextPart: number }> {
    if (this.#cursor !== undefined) return this.#cursor;
    const uploadId = await this.#uploads.openMultipart(this.#bucketKey);
    const committed = await this.#uploads.committedParts(this.#bucketKey, uploadId, this.offset);
    this.#cursor = { uploadId, nextPart: committed.length + 1 };
    return this.#cursor;
  }

  #take(count: number): Buffer {
    const out = Buffer.allocUnsafe(count);
    let filled = 0;
    while (filled < count) {
      const head = this.#chunks[0]!;
      const take = Math.min(head.length, count - filled);
      head.copy(out, filled, 0, take);
      if (take === head.length) this.#chunks.shift();
      else this.#chunks[0] = head.subarray(take);
      filled += take;
    }
    this.buffered -= count;
    return out;
  }
}

export function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`upload body yielded a ${typeof chunk}, expected bytes`);
}
