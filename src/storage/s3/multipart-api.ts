import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { isMissing, type S3Gateway } from './s3-gateway.ts';

export interface OpenUpload {
  bucketKey: string;
  uploadId: string;
  /** Absent when the server does not say; age gates treat that as young. */
  initiated?: Date;
}

export interface Part {
  PartNumber: number;
  ETag: string;
  Size: number;
}

/** Where the next part of an open multipart upload goes. */
export interface PartCursor {
  uploadId: string;
  nextPart: number;
}

/**
 * The S3 calls multipart uploads are made of, on bucket keys, each through the gateway (retries, breaker). Holds no
 * state: everything is asked of the server, so any process can pick up where another left off.
 */
export class MultipartApi {
  readonly gateway: S3Gateway;
  readonly bucket: string;

  constructor(gateway: S3Gateway, bucket: string) {
    this.gateway = gateway;
    this.bucket = bucket;
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
            Bucket: this.bucket,
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

  async create(bucketKey: string): Promise<string> {
    const created = await this.#send((signal) =>
      this.#client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: bucketKey }), { abortSignal: signal }),
    );
    if (created.UploadId === undefined) throw new Error(`CreateMultipartUpload for ${bucketKey} returned no UploadId`);
    return created.UploadId;
  }

  /** The open multipart upload of `bucketKey`, created when there is none. */
  async openOrCreate(bucketKey: string): Promise<string> {
    const [existing] = await this.uploadIdsOf(bucketKey);
    return existing ?? this.create(bucketKey);
  }

  /** Opens (or finds) the multipart upload holding the first `offset` bytes of `bucketKey` and points past them. */
  async cursorAt(bucketKey: string, offset: number): Promise<PartCursor> {
    const uploadId = await this.openOrCreate(bucketKey);
    const { committed } = await this.committedParts(bucketKey, uploadId, offset);
    return { uploadId, nextPart: committed.length + 1 };
  }

  /** Every part the server holds, in part-number order. */
  async listParts(bucketKey: string, uploadId: string): Promise<Part[]> {
    const parts: Part[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await this.#send((signal) =>
        this.#client.send(
          new ListPartsCommand({ Bucket: this.bucket, Key: bucketKey, UploadId: uploadId, ...(marker !== undefined ? { PartNumberMarker: marker } : {}) }),
          { abortSignal: signal },
        ),
      );
      for (const part of page.Parts ?? []) parts.push({ PartNumber: part.PartNumber ?? 0, ETag: part.ETag ?? '', Size: part.Size ?? 0 });
      if (!page.IsTruncated) return parts.sort((a, b) => a.PartNumber - b.PartNumber);
      marker = page.NextPartNumberMarker;
    }
  }

  /**
   * Parts 1..n holding exactly the first `offset` bytes, and every stored part; parts past the committed ones are
   * leftovers of a write that never committed.
   */
  async committedParts(bucketKey: string, uploadId: string, offset: number): Promise<{ committed: Part[]; stored: Part[] }> {
    const committed: Part[] = [];
    const stored = await this.listParts(bucketKey, uploadId);
    let total = 0;
    for (const part of stored) {
      if (total === offset) break;
      if (part.PartNumber !== committed.length + 1) break;
      committed.push(part);
      total += part.Size;
    }
    if (total !== offset) throw new Error(`upload ${bucketKey}: parts hold ${total} bytes, ${offset} were committed`);
    return { committed, stored };
  }

  async uploadPart(bucketKey: string, uploadId: string, partNumber: number, bytes: Buffer): Promise<string> {
    const result = await this.#send((signal) =>
      this.#client.send(
        new UploadPartCommand({ Bucket: this.bucket, Key: bucketKey, UploadId: uploadId, PartNumber: partNumber, Body: bytes, ContentLength: bytes.length }),
        { abortSignal: signal },
      ),
    );
    return etagOf(result.ETag, `UploadPart ${partNumber} of ${bucketKey}`);
  }

  /** One attempt only: a streamed body cannot be sent twice. `signal` aborts it (source failure or stall). */
  async uploadPartStream(bucketKey: string, uploadId: string, partNumber: number, body: Readable, length: number, signal: AbortSignal): Promise<string> {
    const result = await this.gateway.sendOnce(
      (abortSignal) =>
        this.#client.send(
          new UploadPartCommand({ Bucket: this.bucket, Key: bucketKey, UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: length }),
          { abortSignal },
        ),
      signal,
    );
    return etagOf(result.ETag, `UploadPart ${partNumber} of ${bucketKey}`);
  }

  /** Server-side copy of `source` (a `bucket/key` copy source), or of its inclusive byte range, into a part. */
  async uploadPartCopy(bucketKey: string, uploadId: string, partNumber: number, source: string, range?: { start: number; end: number }): Promise<string> {
    const result = await this.#send((signal) =>
      this.#client.send(
        new UploadPartCopyCommand({
          Bucket: this.bucket,
          Key: bucketKey,
          UploadId: uploadId,
          PartNumber: partNumber,
          CopySource: source,
          ...(range !== undefined ? { CopySourceRange: `bytes=${range.start}-${range.end}` } : {}),
        }),
        { abortSignal: signal },
      ),
    );
    return etagOf(result.CopyPartResult?.ETag, `UploadPartCopy ${partNumber} of ${bucketKey}`);
  }

  async complete(bucketKey: string, uploadId: string, parts: readonly Pick<Part, 'PartNumber' | 'ETag'>[]): Promise<void> {
    await this.#send((signal) =>
      this.#client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: bucketKey,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
        }),
        { abortSignal: signal },
      ),
    );
  }

  /** Aborts the given multipart uploads of `bucketKey`; already-gone ones are fine. */
  async abort(bucketKey: string, uploadIds: readonly string[]): Promise<void> {
    for (const uploadId of uploadIds) {
      try {
        await this.#send((signal) =>
          this.#client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: bucketKey, UploadId: uploadId }), { abortSignal: signal }),
        );
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
    }
  }

  async put(bucketKey: string, bytes: Buffer): Promise<void> {
    await this.#send((signal) =>
      this.#client.send(new PutObjectCommand({ Bucket: this.bucket, Key: bucketKey, Body: bytes, ContentLength: bytes.length }), { abortSignal: signal }),
    );
  }

  async getBytes(bucketKey: string): Promise<Buffer> {
    const result = await this.#send((signal) => this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: bucketKey }), { abortSignal: signal }));
    return Buffer.from((await result.Body?.transformToByteArray()) ?? []);
  }

  /** Size of an object, undefined when absent. */
  async sizeOf(bucketKey: string): Promise<number | undefined> {
    try {
      const head = await this.#send((signal) => this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: bucketKey }), { abortSignal: signal }));
      return head.ContentLength ?? 0;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async deleteAll(bucketKeys: readonly string[]): Promise<void> {
    for (const bucketKey of bucketKeys) {
      await this.#send((signal) => this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: bucketKey }), { abortSignal: signal }));
    }
  }

  /** CopySource of one of this bucket's keys. */
  source(bucketKey: string): string {
    return copySource(this.bucket, bucketKey);
  }

  get #client() {
    return this.gateway.client;
  }

  #send<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.gateway.send(call);
  }
}

/** CopySource is `bucket/key`, URL-encoded per path segment. */
export function copySource(bucket: string, bucketKey: string): string {
  return `${bucket}/${bucketKey.split('/').map(encodeURIComponent).join('/')}`;
}

function etagOf(etag: string | undefined, what: string): string {
  if (etag === undefined) throw new Error(`${what} returned no ETag`);
  return etag;
}
