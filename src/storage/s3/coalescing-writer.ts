import type { MultipartApi, Part } from './multipart-api.ts';
import { QueuedWriter } from './part-writer.ts';
import { MIN_PART_SIZE } from './part-limits.ts';

interface Scratch {
  uploadId: string;
  parts: Pick<Part, 'PartNumber' | 'ETag'>[];
  bytes: number;
}

/**
 * Non-uniform mode for a chunked write when `partSize` exceeds 5 MiB (docs/storage.md, "S3 uploads"): buffering
 * whole parts would cost `partSize` of memory per upload, so bytes go out as 5 MiB sub-parts of a scratch multipart
 * upload (`scratchKey`, i.e. `staged/coalesce`). Once the scratch holds `partSize` bytes it is completed and
 * grafted into the real upload as one part with UploadPartCopy. At most one 5 MiB sub-part is held. At the end of
 * the write a partly filled scratch is grafted as a shorter part (still ≥ 5 MiB, as it holds at least one full
 * sub-part); only bytes that never filled a sub-part are left to park.
 */
export class CoalescingWriter extends QueuedWriter {
  readonly #scratchKey: string;
  readonly #partSize: number;
  #scratch: Scratch | undefined;
  #grafted = false;

  constructor(api: MultipartApi, bucketKey: string, scratchKey: string, offset: number, partSize: number) {
    super(api, bucketKey, offset);
    this.#scratchKey = scratchKey;
    this.#partSize = partSize;
  }

  async append(bytes: Buffer): Promise<void> {
    this.queue.push(bytes);
    while (this.queue.length >= this.#subPartSize()) {
      const subPart = this.queue.take(this.#subPartSize());
      await this.guard(() => this.#addSubPart(subPart));
    }
  }

  async finish(): Promise<Buffer> {
    if (this.#scratch === undefined) return this.queue.take(this.queue.length);
    await this.guard(async () => {
      if (this.queue.length > 0) await this.#addSubPart(this.queue.take(this.queue.length));
      if (this.#scratch !== undefined) await this.#graft(this.#scratch);
      if (this.#grafted) await this.api.deleteAll([this.#scratchKey]);
    });
    return Buffer.alloc(0);
  }

  /** 5 MiB, or less to land exactly on `partSize` when it is not a multiple of 5 MiB (the scratch's final part). */
  #subPartSize(): number {
    return Math.min(MIN_PART_SIZE, this.#partSize - (this.#scratch?.bytes ?? 0));
  }

  async #addSubPart(bytes: Buffer): Promise<void> {
    this.#scratch ??= { uploadId: await this.#openScratch(), parts: [], bytes: 0 };
    const scratch = this.#scratch;
    const partNumber = scratch.parts.length + 1;
    const etag = await this.api.uploadPart(this.#scratchKey, scratch.uploadId, partNumber, bytes);
    scratch.parts.push({ PartNumber: partNumber, ETag: etag });
    scratch.bytes += bytes.length;
    if (scratch.bytes === this.#partSize) await this.#graft(scratch);
  }

  /** A fresh scratch upload; one a dead write left behind is aborted first, so its sub-parts never mix in. */
  async #openScratch(): Promise<string> {
    await this.api.abort(this.#scratchKey, await this.api.uploadIdsOf(this.#scratchKey));
    return this.api.create(this.#scratchKey);
  }

  async #graft(scratch: Scratch): Promise<void> {
    await this.api.complete(this.#scratchKey, scratch.uploadId, scratch.parts);
    const cursor = await this.cursor();
    await this.api.uploadPartCopy(this.bucketKey, cursor.uploadId, cursor.nextPart, this.api.source(this.#scratchKey));
    cursor.nextPart++;
    this.offset += scratch.bytes;
    this.#scratch = undefined;
    this.#grafted = true;
  }
}
