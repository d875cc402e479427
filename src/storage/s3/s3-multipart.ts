import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFoundError } from '../object-store.ts';
import { isMissing, type S3Gateway } from './s3-gateway.ts';
import type { S3Keys } from './s3-keys.ts';
import { bucketKeys } from './s3-listing.ts';
import { PartWriter, toBuffer } from './part-writer.ts';

export interface MultipartContext {
  gateway: S3Gateway;
  bucket: string;
  keys: S3Keys;
  /** Bytes per part; also the most one write holds in memory. */
  partSize: number;
}

/**
 * The committed state of an upload. The staged object `staged/<offset>` is the commit record: `offset` bytes are
 * in multipart parts 1..n, and its body is the remainder not yet in a part. A write uploads its new parts first
 * and commits by writing the next staged object, so a write that dies half-way leaves the previous state intact
 * (parts past `offset` are overwritten by the next write and never completed).
 */
interface Staged {
  offset: number;
  bucketKey: string;
  size: number;
  /** Every staged object, the current one included, for cleanup. */
  all: string[];
}

export interface OpenUpload {
  bucketKey: string;
  uploadId: string;
  /** Absent when the server does not say; age gates treat that as young. */
  initiated?: Date;
}

interface Part {
  PartNumber: number;
  ETag: string;
  Size: number;
}

const OFFSET_DIGITS = 16;
const OFFSET_NAME = /^\d{16}$/;

/**
 * The upload primitive on S3 multipart uploads, non-uniform mode of §2.4. Nothing is kept between calls: each
 * call reads the staged object and, when it needs them, ListMultipartUploads / ListParts, so any process sharing
 * the bucket can continue an upload.
 */
export class MultipartUploads {
  readonly #context: MultipartContext;

  constructor(context: MultipartContext) {
    this.#context = context;
  }

  async create(key: string): Promise<void> {
    const bucketKey = this.#context.keys.full(key);
    await this.#discard(key, bucketKey);
    await this.#putStaged(key, 0, Buffer.alloc(0));
  }

  async write(key: string, body: Readable): Promise<number> {
    const bucketKey = this.#context.keys.full(key);
    const staged = await this.#staged(key);
    if (staged === undefined) throw new NotFoundError(key);
    const writer = new PartWriter(this, bucketKey, staged.offset, this.#context.partSize);
    if (staged.size > 0) writer.prepend(await this.#getBytes(staged.bucketKey));
    let written = 0;
    let sourceFailure: unknown;
    try {
      await pipeline(body, async (source: AsyncIterable<unknown>) => {
        for await (const chunk of source) {
          const bytes = toBuffer(chunk);
          written += bytes.length;
          await writer.append(bytes);
        }
      });
    } catch (err) {
      // Storage faults fail the write with nothing committed; a failing source keeps what it delivered.
      if (writer.storageFailed) throw err;
      sourceFailure = err;
    }
    if (writer.offset !== staged.offset || writer.buffered !== staged.size) {
      await this.#putStaged(key, writer.offset, writer.remainder());
      await this.#deleteAll(staged.all.filter((stale) => stale !== this.#stagedKey(key, writer.offset)));
    }
    if (sourceFailure !== undefined) throw sourceFailure;
    return written;
  }

  async size(key: string): Promise<number> {
    const staged = await this.#staged(key);
    if (staged !== undefined) return staged.offset + staged.size;
    return this.#sizeOfObject(key);
  }

  async complete(key: string): Promise<number> {
    const bucketKey = this.#context.keys.full(key);
    const staged = await this.#staged(key);
    // Already completed (a retry): the object is the upload, as on the filesystem.
    if (staged === undefined) return this.#sizeOfObject(key);
    const uploadIds = await this.uploadIdsOf(bucketKey);
    if (staged.offset === 0) {
      // Under one part: never a multipart, the remainder simply becomes the object.
      await this.#send((signal) =>
        this.#client.send(new CopyObjectCommand({ Bucket: this.#bucket, Key: bucketKey, CopySource: copySource(this.#bucket, staged.bucketKey) }), {
          abortSignal: signal,
        }),
      );
      await this.#abortAll(bucketKey, uploadIds);
    } else {
      const [uploadId, ...stale] = uploadIds;
      if (uploadId === undefined) return this.#finishInterrupted(key, staged);
      const parts = await this.committedParts(bucketKey, uploadId, staged.offset);
      if (staged.size > 0) {
        const remainder = await this.#getBytes(staged.bucketKey);
        parts.push({ PartNumber: parts.length + 1, ETag: await this.uploadPart(bucketKey, uploadId, parts.length + 1, remainder), Size: remainder.length });
      }
      await this.#send((signal) =>
        this.#client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.#bucket,
            Key: bucketKey,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
          }),
          { abortSignal: signal },
        ),
      );
      await this.#abortAll(bucketKey, stale);
    }
    await this.#deleteAll(staged.all);
    return staged.offset + staged.size;
  }

  /**
   * Parts committed, no multipart open: an earlier completion got as far as CompleteMultipartUpload and died before
   * removing the staged object. The object of the right size is that completion's result.
   */
  async #finishInterrupted(key: string, staged: Staged): Promise<number> {
    const expected = staged.offset + staged.size;
    const size = await this.#sizeOfObject(key).catch((err: unknown) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    if (size !== expected) throw new Error(`upload ${key}: ${staged.offset} bytes committed but no multipart upload found`);
    await this.#deleteAll(staged.all);
    return expected;
  }

  async abort(key: string): Promise<void> {
    const bucketKey = this.#context.keys.full(key);
    await this.#discard(key, bucketKey);
  }

  /** Multipart uploads open for exactly this bucket key (ListMultipartUploads matches by prefix). */
  async uploadIdsOf(bucketKey: string): Promise<string[]> {
    const ids: string[] = [];
    for await (const upload of this.openUploads(bucketKey)) if (upload.bucketKey === bucketKey) ids.push(upload.uploadId);
    return ids;
  }

  /** Every multipart upload open under a bucket prefix, a page of ListMultipartUploads at a time. */
  async *openUploads(bucketPrefix: string): AsyncGenerator<OpenUpload> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.#send((signal) =>
        this.#client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.#bucket,
            Prefix: bucketPrefix,
            ...(keyMarker !== undefined ? { KeyMarker: keyMarker } : {}),
            ...(uploadIdMarker !== undefined ? { UploadIdMarker: uploadIdMarker } : {}),
          }),
          { abortSignal: signal },
        ),
      );
      for (const upload of page.Uploads ?? []) {
        if (upload.Key === undefined || upload.UploadId === undefined) continue;
        yield { bucketKey: upload.Key, uploadId: upload.UploadId, ...(upload.Initiated ? { initiated: upload.Initiated } : {}) };
      }
      if (!page.IsTruncated) return;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  /** Aborts one multipart upload; an already-gone one is fine. */
  async abortOne(bucketKey: string, uploadId: string): Promise<void> {
    await this.#abortAll(bucketKey, [uploadId]);
  }

  async openMultipart(bucketKey: string): Promise<string> {
    const [existing] = await this.uploadIdsOf(bucketKey);
    if (existing !== undefined) return existing;
    const created = await this.#send((signal) =>
      this.#client.send(new CreateMultipartUploadCommand({ Bucket: this.#bucket, Key: bucketKey }), { abortSignal: signal }),
    );
    if (created.UploadId === undefined) throw new Error(`CreateMultipartUpload for ${bucketKey} returned no UploadId`);
    return created.UploadId;
  }

  /** Every part the server holds, in part-number order. */
  async listParts(bucketKey: string, uploadId: string): Promise<Part[]> {
    const parts: Part[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await this.#send((signal) =>
        this.#client.send(
          new ListPartsCommand({ Bucket: this.#bucket, Key: bucketKey, UploadId: uploadId, ...(marker !== undefined ? { PartNumberMarker: marker } : {}) }),
          { abortSignal: signal },
        ),
      );
      for (const part of page.Parts ?? []) parts.push({ PartNumber: part.PartNumber ?? 0, ETag: part.ETag ?? '', Size: part.Size ?? 0 });
      if (!page.IsTruncated) return parts.sort((a, b) => a.PartNumber - b.PartNumber);
      marker = page.NextPartNumberMarker;
    }
  }

  /** Parts 1..n holding exactly the first `offset` bytes; parts past them are leftovers of a write that never committed. */
  async committedParts(bucketKey: string, uploadId: string, offset: number): Promise<Part[]> {
    const committed: Part[] = [];
    let total = 0;
    for (const part of await this.listParts(bucketKey, uploadId)) {
      if (total === offset) break;
      if (part.PartNumber !== committed.length + 1) break;
      committed.push(part);
      total += part.Size;
    }
    if (total !== offset) throw new Error(`upload ${bucketKey}: parts hold ${total} bytes, ${offset} were committed`);
    return committed;
  }

  async uploadPart(bucketKey: string, uploadId: string, partNumber: number, bytes: Buffer): Promise<string> {
    const result = await this.#send((signal) =>
      this.#client.send(
        new UploadPartCommand({ Bucket: this.#bucket, Key: bucketKey, UploadId: uploadId, PartNumber: partNumber, Body: bytes, ContentLength: bytes.length }),
        { abortSignal: signal },
      ),
    );
    if (result.ETag === undefined) throw new Error(`UploadPart ${partNumber} of ${bucketKey} returned no ETag`);
    return result.ETag;
  }

  /** Removes every trace of an upload: open multiparts, staged objects and a completed object. */
  async #discard(key: string, bucketKey: string): Promise<void> {
    await this.#abortAll(bucketKey, await this.uploadIdsOf(bucketKey));
    const staged: string[] = [];
    for await (const stagedKey of bucketKeys(this.#context.gateway, this.#bucket, this.#context.keys.stagedDir(key))) staged.push(stagedKey);
    await this.#deleteAll([...staged, bucketKey]);
  }

  async #abortAll(bucketKey: string, uploadIds: string[]): Promise<void> {
    for (const uploadId of uploadIds) {
      try {
        await this.#send((signal) =>
          this.#client.send(new AbortMultipartUploadCommand({ Bucket: this.#bucket, Key: bucketKey, UploadId: uploadId }), { abortSignal: signal }),
        );
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
    }
  }

  async #staged(key: string): Promise<Staged | undefined> {
    const dir = this.#context.keys.stagedDir(key);
    const all: string[] = [];
    let best: { offset: number; bucketKey: string } | undefined;
    for await (const bucketKey of bucketKeys(this.#context.gateway, this.#bucket, dir)) {
      all.push(bucketKey);
      const name = bucketKey.slice(dir.length);
      if (!OFFSET_NAME.test(name)) continue;
      // Zero-padded, so the listing's last match is the newest commit.
      best = { offset: Number(name), bucketKey };
    }
    if (best === undefined) return undefined;
    const chosen = best;
    try {
      const head = await this.#send((signal) =>
        this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: chosen.bucketKey }), { abortSignal: signal }),
      );
      return { ...chosen, size: head.ContentLength ?? 0, all };
    } catch (err) {
      // Aborted between the listing and the head.
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  #stagedKey(key: string, offset: number): string {
    return `${this.#context.keys.stagedDir(key)}${String(offset).padStart(OFFSET_DIGITS, '0')}`;
  }

  async #putStaged(key: string, offset: number, bytes: Buffer): Promise<void> {
    const stagedKey = this.#stagedKey(key, offset);
    await this.#send((signal) =>
      this.#client.send(new PutObjectCommand({ Bucket: this.#bucket, Key: stagedKey, Body: bytes, ContentLength: bytes.length }), {
        abortSignal: signal,
      }),
    );
  }

  async #getBytes(bucketKey: string): Promise<Buffer> {
    const result = await this.#send((signal) =>
      this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: bucketKey }), { abortSignal: signal }),
    );
    return Buffer.from((await result.Body?.transformToByteArray()) ?? []);
  }

  async #sizeOfObject(key: string): Promise<number> {
    try {
      const head = await this.#send((signal) =>
        this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#context.keys.full(key) }), { abortSignal: signal }),
      );
      return head.ContentLength ?? 0;
    } catch (err) {
      if (isMissing(err)) throw new NotFoundError(key);
      throw err;
    }
  }

  async #deleteAll(bucketKeys: string[]): Promise<void> {
    for (const bucketKey of bucketKeys) {
      await this.#send((signal) => this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: bucketKey }), { abortSignal: signal }));
    }
  }

  get #client() {
    return this.#context.gateway.client;
  }

  get #bucket(): string {
    return this.#context.bucket;
  }

  #send<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.#context.gateway.send(call);
  }
}

/** CopySource is `bucket/key`, URL-encoded per path segment. */
export function copySource(bucket: string, bucketKey: string): string {
  return `${bucket}/${bucketKey.split('/').map(encodeURIComponent).join('/')}`;
}
