import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFoundError } from '../object-store.ts';
import { toBuffer } from './byte-queue.ts';
import { CoalescingWriter } from './coalescing-writer.ts';
import type { MultipartApi, OpenUpload } from './multipart-api.ts';
import { PartWriter, type ChunkWriter } from './part-writer.ts';
import type { ServerCopy } from './s3-copy.ts';
import type { S3Keys } from './s3-keys.ts';
import { bucketKeys, bucketObjects } from './s3-listing.ts';
import { MIN_PART_SIZE } from './part-limits.ts';
import { streamParts } from './streamed-part.ts';

export type { OpenUpload } from './multipart-api.ts';

export interface MultipartContext {
  api: MultipartApi;
  keys: S3Keys;
  /** `multipart_part_size`. */
  partSize: number;
  /** `multipart_uniform_parts`. */
  uniformParts: boolean;
  copier: ServerCopy;
  /** How long a streamed part may move no byte before it is abandoned. */
  stallMs: number;
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
  /** Every object in the staged folder (the current one included, a leftover scratch object too), for cleanup. */
  all: string[];
}

const OFFSET_DIGITS = 16;
const OFFSET_NAME = /^\d{16}$/;
/** The scratch multipart upload (and, briefly, object) of a coalescing write, beside the staged remainders. */
export const COALESCE_NAME = 'coalesce';

/**
 * The upload primitive on S3 multipart uploads, in both modes (docs/storage.md, "S3 uploads"). Nothing is kept
 * between calls: each call reads the staged object and, when it needs them, ListMultipartUploads / ListParts, so
 * any process sharing the bucket can continue an upload.
 *
 * Non-uniform (default): a write of known length streams the remainder and its body as one part; a chunked write
 * cuts 5 MiB parts, or coalesces 5 MiB sub-parts into `multipart_part_size` parts; the remainder parked is under
 * 5 MiB. Uniform: every non-final part is exactly `multipart_part_size`; the remainder is under one part.
 */
export class MultipartUploads {
  readonly #context: MultipartContext;

  constructor(context: MultipartContext) {
    this.#context = context;
  }

  async create(key: string, fresh: boolean): Promise<void> {
    if (!fresh) await this.#discard(key);
    await this.#putStaged(key, 0, Buffer.alloc(0));
  }

  /**
   * Appends `body`; `length`, when given, is exactly what it delivers (a request's Content-Length). `beforeCommit`
   * runs with the new size once the bytes are in parts and before the commit record makes them count.
   */
  async write(key: string, body: Readable, length?: number, beforeCommit?: (size: number) => Promise<void>): Promise<number> {
    const bucketKey = this.#keys.full(key);
    const staged = await this.#staged(key);
    if (staged === undefined) throw new NotFoundError(key);
    const remainder = staged.size > 0 ? await this.#api.getBytes(staged.bucketKey) : Buffer.alloc(0);
    if (!this.#context.uniformParts && length !== undefined && remainder.length + length >= MIN_PART_SIZE) {
      const offset = await streamParts({ api: this.#api, bucketKey, offset: staged.offset, remainder, body, length, stallMs: this.#context.stallMs });
      await beforeCommit?.(offset);
      await this.#commit(key, staged, offset, Buffer.alloc(0));
      return length;
    }
    const writer = this.#writer(key, bucketKey, staged.offset);
    writer.prepend(remainder);
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
    const parked = await writer.finish();
    await beforeCommit?.(writer.offset + parked.length);
    await this.#commit(key, staged, writer.offset, parked);
    if (sourceFailure !== undefined) throw sourceFailure;
    return written;
  }

  async size(key: string): Promise<number> {
    const staged = await this.#staged(key);
    if (staged !== undefined) return staged.offset + staged.size;
    return this.#sizeOfObject(key);
  }

  async complete(key: string): Promise<number> {
    const bucketKey = this.#keys.full(key);
    const staged = await this.#staged(key);
    // Already completed (a retry): the object is the upload, as on the filesystem.
    if (staged === undefined) return this.#sizeOfObject(key);
    const uploadIds = await this.#api.uploadIdsOf(bucketKey);
    if (staged.offset === 0) {
      // Never reached a part: no multipart, the remainder simply becomes the object.
      await this.#context.copier.copy(staged.bucketKey, bucketKey, staged.size);
      await this.#api.abort(bucketKey, uploadIds);
    } else {
      const [uploadId, ...stale] = uploadIds;
      if (uploadId === undefined) return this.#finishInterrupted(key, staged);
      const { committed: parts, stored } = await this.#api.committedParts(bucketKey, uploadId, staged.offset);
      // The remainder, uploaded as the next part, replaces a leftover of that number.
      if (stored.length > parts.length + (staged.size > 0 ? 1 : 0)) {
        // Leftover parts of a write that died before its commit record. S3 completes a subset of the stored parts,
        // some servers (Ceph RGW) refuse to: complete them all, then keep only the committed bytes.
        await this.#api.complete(bucketKey, uploadId, stored);
        await this.#trim(bucketKey, staged);
      } else {
        if (staged.size > 0) {
          const remainder = await this.#api.getBytes(staged.bucketKey);
          const partNumber = parts.length + 1;
          parts.push({ PartNumber: partNumber, ETag: await this.#api.uploadPart(bucketKey, uploadId, partNumber, remainder), Size: remainder.length });
        }
        await this.#api.complete(bucketKey, uploadId, parts);
      }
      await this.#api.abort(bucketKey, stale);
    }
    await this.#abortScratch(key);
    await this.#api.deleteAll(staged.all);
    return staged.offset + staged.size;
  }

  async abort(key: string): Promise<void> {
    await this.#discard(key);
  }

  /** Every multipart upload open under a bucket prefix. */
  openUploads(bucketPrefix: string): AsyncGenerator<OpenUpload> {
    return this.#api.openUploads(bucketPrefix);
  }

  /** Aborts one multipart upload; an already-gone one is fine. */
  async abortOne(bucketKey: string, uploadId: string): Promise<void> {
    await this.#api.abort(bucketKey, [uploadId]);
  }

  /** The bucket key of an upload's scratch multipart upload. */
  scratchKey(key: string): string {
    return `${this.#keys.stagedDir(key)}${COALESCE_NAME}`;
  }

  #writer(key: string, bucketKey: string, offset: number): ChunkWriter {
    const { partSize, uniformParts } = this.#context;
    if (uniformParts) return new PartWriter(this.#api, bucketKey, offset, partSize);
    if (partSize === MIN_PART_SIZE) return new PartWriter(this.#api, bucketKey, offset, MIN_PART_SIZE);
    return new CoalescingWriter(this.#api, bucketKey, this.scratchKey(key), offset, partSize);
  }

  /** Writes the new commit record (when anything changed) and removes the ones it supersedes. */
  async #commit(key: string, staged: Staged, offset: number, remainder: Buffer): Promise<void> {
    if (offset === staged.offset && remainder.length === staged.size) return;
    const next = this.#stagedKey(key, offset);
    await this.#api.put(next, remainder);
    await this.#api.deleteAll(staged.all.filter((stale) => stale !== next));
  }

  /**
   * Parts committed, no multipart open: an earlier completion got as far as CompleteMultipartUpload and died before
   * removing the staged object. The object of the right size is that completion's result; a larger one still
   * holds leftover parts (it died inside the trim) and is trimmed now. Leftovers are whole parts, each at least as
   * large as any remainder, so the two sizes cannot be confused.
   */
  async #finishInterrupted(key: string, staged: Staged): Promise<number> {
    const bucketKey = this.#keys.full(key);
    const expected = staged.offset + staged.size;
    const size = await this.#api.sizeOf(bucketKey);
    if (size === undefined || size < expected) throw new Error(`upload ${key}: ${staged.offset} bytes committed but no multipart upload found`);
    if (size > expected) await this.#trim(bucketKey, staged);
    await this.#abortScratch(key);
    await this.#api.deleteAll(staged.all);
    return expected;
  }

  /**
   * Rewrites the object at `bucketKey`, which begins with the committed `staged.offset` bytes and goes on with
   * leftovers, as those bytes plus the staged remainder, copied from the object itself (no byte of the committed
   * part passes through this process).
   */
  async #trim(bucketKey: string, staged: Staged): Promise<void> {
    const remainder = staged.size > 0 ? await this.#api.getBytes(staged.bucketKey) : undefined;
    await this.#context.copier.copyPrefix(bucketKey, bucketKey, staged.offset, remainder);
  }

  /** Removes every trace of an upload: open multiparts (its own and a scratch one), staged objects and a completed object. */
  async #discard(key: string): Promise<void> {
    const bucketKey = this.#keys.full(key);
    await this.#api.abort(bucketKey, await this.#api.uploadIdsOf(bucketKey));
    await this.#abortScratch(key);
    const staged: string[] = [];
    for await (const stagedKey of bucketKeys(this.#api.gateway, this.#api.bucket, this.#keys.stagedDir(key))) staged.push(stagedKey);
    await this.#api.deleteAll([...staged, bucketKey]);
  }

  async #abortScratch(key: string): Promise<void> {
    const scratch = this.scratchKey(key);
    await this.#api.abort(scratch, await this.#api.uploadIdsOf(scratch));
  }

  async #staged(key: string): Promise<Staged | undefined> {
    const dir = this.#keys.stagedDir(key);
    const all: string[] = [];
    let best: Staged | undefined;
    for await (const { key: bucketKey, size } of bucketObjects(this.#api.gateway, this.#api.bucket, dir)) {
      all.push(bucketKey);
      const name = bucketKey.slice(dir.length);
      if (!OFFSET_NAME.test(name)) continue;
      // Zero-padded, so the listing's last match is the newest commit; its size comes with the listing.
      best = { offset: Number(name), bucketKey, size, all };
    }
    return best;
  }

  #stagedKey(key: string, offset: number): string {
    return `${this.#keys.stagedDir(key)}${String(offset).padStart(OFFSET_DIGITS, '0')}`;
  }

  async #putStaged(key: string, offset: number, bytes: Buffer): Promise<void> {
    await this.#api.put(this.#stagedKey(key, offset), bytes);
  }

  async #sizeOfObject(key: string): Promise<number> {
    const size = await this.#api.sizeOf(this.#keys.full(key));
    if (size === undefined) throw new NotFoundError(key);
    return size;
  }

  get #api(): MultipartApi {
    return this.#context.api;
  }

  get #keys(): S3Keys {
    return this.#context.keys;
  }
}
