import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import { logger } from '../../observability/logging.ts';
import type { ByteRange, ChildrenPage, ListOptions, ListPage, ObjectMeta, ObjectStore, UploadWriteOptions } from '../object-store.ts';
import { NotFoundError } from '../object-store.ts';
import { ConditionalCreate } from './conditional-create.ts';
import { httpStatus, isMissing, S3Gateway, type Call } from './s3-gateway.ts';
import { S3Keys } from './s3-keys.ts';
import { bucketKeys, childrenAfter } from './s3-listing.ts';
import { MultipartApi } from './multipart-api.ts';
import { multipartVerdict, probeMultipart } from './multipart-probe.ts';
import { startupFailure } from './startup-failure.ts';
import { ServerCopy } from './s3-copy.ts';
import { COALESCE_NAME, MultipartUploads } from './s3-multipart.ts';
import { guardStalls } from './stall-guard.ts';
import { checkCopyChunkSize, checkPartSize } from '../../config/s3-section.ts';
import type { S3Settings } from '../../config/types.ts';
import { collectPage, pageLimit } from '../paging.ts';

export interface MultipartUpload {
  key: string;
  uploadId: string;
  initiated?: Date;
  /**
   * Set for the scratch upload of a coalescing write (`staged/coalesce`): the folder of the upload it works for,
   * i.e. the folder holding that upload's key. Unset: `key` is the upload's own key.
   */
  scratchOf?: string;
}

/** The folder whose upload a scratch multipart key belongs to, or undefined for any other key. */
function scratchFolder(key: string): string | undefined {
  const suffix = `/staged/${COALESCE_NAME}`;
  return key.endsWith(suffix) ? key.slice(0, -suffix.length) : undefined;
}

const log = logger('angos::storage::s3');

const DELETE_BATCH = 1000;

/**
 * An object store on one S3 bucket (AWS S3 or a compatible server), under an optional key prefix. Whole objects
 * are single PutObject calls, so readers see the old or the new object; uploads are multipart uploads whose
 * state lives in the bucket (see `MultipartUploads`).
 */
export class S3ObjectStore implements ObjectStore {
  readonly bucket: string;
  readonly presignTtlSecs: number;
  readonly canPresign = true;
  readonly partialUploadsReadable = false;
  readonly #settings: S3Settings;
  readonly #table: string;
  readonly #gateway: S3Gateway;
  readonly #api: MultipartApi;
  readonly #keys: S3Keys;
  readonly #uploads: MultipartUploads;
  readonly #create: ConditionalCreate;
  readonly #copier: ServerCopy;

  /**
   * `settings` come parsed from the configuration, or from a test; `table` names their configuration table
   * (`blob_store.s3`, `metadata_store.s3`) in messages about them.
   */
  constructor(settings: S3Settings, table = 'blob_store.s3') {
    // The configuration refuses illegal part sizes at load; settings built in code get the same guard.
    checkPartSize(settings.multipartPartSize);
    checkCopyChunkSize(settings.multipartCopyChunkSize);
    this.bucket = settings.bucket;
    this.presignTtlSecs = settings.presignTtlSecs;
    this.#settings = settings;
    this.#table = table;
    this.#gateway = new S3Gateway({
      endpoint: settings.endpoint,
      region: settings.region,
      accessKeyId: settings.accessKeyId,
      secretKey: settings.secretKey,
      maxAttempts: settings.maxAttempts,
      operationTimeoutMs: settings.operationTimeoutSecs * 1000,
      attemptTimeoutMs: settings.operationAttemptTimeoutSecs * 1000,
      breakerThreshold: settings.circuitBreakerThreshold,
      breakerCooldownMs: settings.circuitBreakerCooldownSecs * 1000,
    });
    this.#keys = new S3Keys(settings.keyPrefix);
    this.#api = new MultipartApi(this.#gateway, this.bucket);
    this.#copier = new ServerCopy(this.#api, {
      threshold: settings.multipartCopyThreshold,
      chunkSize: settings.multipartCopyChunkSize,
      jobs: settings.multipartCopyJobs,
    });
    this.#uploads = new MultipartUploads({
      api: this.#api,
      keys: this.#keys,
      partSize: settings.multipartPartSize,
      uniformParts: settings.multipartUniformParts,
      copier: this.#copier,
      stallMs: this.#gateway.attemptTimeoutMs,
    });
    this.#create = new ConditionalCreate(this.#gateway, this.bucket, this.#keys, log, settings.capabilities?.putIfNoneMatch);
  }

  /**
   * The start-up probe of the multipart operations uploads need (see `multipart-probe.ts`): throws, naming the
   * missing operation and the setting that avoids it, when this server lacks one the configured mode needs.
   */
  async checkMultipartSupport(): Promise<void> {
    let missing: Awaited<ReturnType<typeof probeMultipart>>;
    try {
      missing = await probeMultipart(this.#api, this.#keys);
    } catch (err) {
      throw new Error(startupFailure(err, this.#settings, this.#table), { cause: err });
    }
    const verdict = multipartVerdict(missing, this.#settings, this.#table);
    if (verdict.warning !== undefined) log.warn(verdict.warning, { bucket: this.bucket });
    if (verdict.refusal !== undefined) throw new Error(verdict.refusal);
  }

  /** True while the circuit breaker fails calls fast. */
  get circuitOpen(): boolean {
    return this.#gateway.breaker.isOpen;
  }

  async get(key: string): Promise<Buffer> {
    const result = await this.#read(key, (signal) => this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.#keys.full(key) }), { abortSignal: signal }));
    return Buffer.from((await result.Body?.transformToByteArray()) ?? []);
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable> {
    const start = range?.start ?? 0;
    const end = range?.end;
    if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
      throw new RangeError(`invalid byte range ${start}-${end ?? ''} for ${key}`);
    }
    const header = start === 0 && end === undefined ? undefined : `bytes=${start}-${end ?? ''}`;
    try {
      const result = await this.#read(key, (signal) =>
        this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.#keys.full(key), ...(header ? { Range: header } : {}) }), {
          abortSignal: signal,
        }),
      );
      // The SDK's Node body is the response stream itself: bytes flow as the consumer reads them.
      return guardStalls(result.Body as Readable, this.#gateway.attemptTimeoutMs);
    } catch (err) {
      // A range starting at or past the end: nothing to read, as on the filesystem.
      if (httpStatus(err) === 416) return Readable.from([]);
      throw err;
    }
  }

  async head(key: string): Promise<ObjectMeta> {
    const result = await this.#read(key, (signal) => this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.#keys.full(key) }), { abortSignal: signal }));
    return { size: result.ContentLength ?? 0, ...(result.LastModified ? { lastModified: result.LastModified } : {}) };
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    await this.#send((signal) =>
      this.#client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.#keys.full(key), Body: bytes, ContentLength: bytes.length }), {
        abortSignal: signal,
      }),
    );
  }

  async createIfAbsent(key: string, body: Buffer | string): Promise<boolean> {
    return this.#create.create(key, typeof body === 'string' ? Buffer.from(body) : body);
  }

  async delete(key: string): Promise<void> {
    await this.#send((signal) => this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.#keys.full(key) }), { abortSignal: signal }));
  }

  async deletePrefix(prefix: string): Promise<void> {
    const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
    if (trimmed === '') return;
    let batch: string[] = [];
    for await (const bucketKey of bucketKeys(this.#gateway, this.bucket, this.#keys.under(trimmed))) {
      batch.push(bucketKey);
      if (batch.length === DELETE_BATCH) {
        await this.#deleteBatch(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await this.#deleteBatch(batch);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    const limit = pageLimit(options.limit);
    const startAfter = options.startAfter === undefined || options.startAfter === '' ? undefined : this.#keys.position(options.startAfter);
    const keys = this.#storeKeys(bucketKeys(this.#gateway, this.bucket, this.#keys.under(prefix), startAfter));
    return collectPage(keys, limit);
  }

  async listChildren(prefix: string, options: ListOptions = {}): Promise<ChildrenPage> {
    const limit = pageLimit(options.limit);
    const dir = this.#keys.under(prefix);
    const after = options.startAfter === undefined ? '' : await this.#childOrder(dir, options.startAfter);
    const found = await childrenAfter(this.#gateway, this.bucket, dir, after, limit + 1);
    const children = found.slice(0, limit).map(({ name, isPrefix }) => ({ name, isPrefix }));
    return found.length > limit ? { children, next: found[limit - 1]!.order } : { children };
  }

  async copy(from: string, to: string, size?: number): Promise<void> {
    try {
      await this.#copier.copy(this.#keys.full(from), this.#keys.full(to), size);
    } catch (err) {
      if (isMissing(err)) throw new NotFoundError(from);
      throw err;
    }
  }

  async move(from: string, to: string, options: { size?: number } = {}): Promise<void> {
    await this.copy(from, to, options.size);
    await this.delete(from);
  }

  createUpload(key: string, options: { fresh?: boolean } = {}): Promise<void> {
    return this.#uploads.create(key, options.fresh ?? false);
  }

  writeUpload(key: string, body: Readable, options: UploadWriteOptions = {}): Promise<number> {
    return this.#uploads.write(key, body, options.length, options.beforeCommit);
  }

  uploadSize(key: string): Promise<number> {
    return this.#uploads.size(key);
  }

  completeUpload(key: string): Promise<number> {
    return this.#uploads.complete(key);
  }

  abortUpload(key: string): Promise<void> {
    return this.#uploads.abort(key);
  }

  /**
   * Multipart uploads open below `prefix/` (S3 only; `scrub --multipart` decides by age and by the upload's session
   * record). Keys are store keys: an upload's own key, or its scratch key (see `uploadKeyOf`).
   */
  async listMultipartUploads(prefix: string): Promise<MultipartUpload[]> {
    const uploads: MultipartUpload[] = [];
    for await (const upload of this.#uploads.openUploads(this.#keys.under(prefix))) {
      const key = this.#keys.strip(upload.bucketKey);
      const scratchOf = scratchFolder(key);
      uploads.push({
        key,
        uploadId: upload.uploadId,
        ...(upload.initiated ? { initiated: upload.initiated } : {}),
        ...(scratchOf !== undefined ? { scratchOf } : {}),
      });
    }
    return uploads;
  }

  /** Aborts one multipart upload found by `listMultipartUploads`; idempotent. */
  abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    return this.#uploads.abortOne(this.#keys.full(key), uploadId);
  }

  /** Presigning is local computation: it never contacts S3 and bypasses the breaker. */
  async presign(key: string, ttlSeconds: number, responseContentType?: string): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: this.#keys.full(key),
      ...(responseContentType !== undefined ? { ResponseContentType: responseContentType } : {}),
    });
    return getSignedUrl(this.#client, command, { expiresIn: ttlSeconds });
  }

  /** Closes the client's pooled connections. */
  destroy(): void {
    this.#gateway.destroy();
  }

  /**
   * A bare `startAfter` that names a prefix child means "after that whole prefix" (callers pass back names they
   * were given); `name/` says so outright.
   */
  async #childOrder(dir: string, startAfter: string): Promise<string> {
    if (startAfter === '' || startAfter.includes('/')) return startAfter;
    const probe = await this.#send((signal) =>
      this.#client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${dir}${startAfter}/`, MaxKeys: 1 }), { abortSignal: signal }),
    );
    return (probe.Contents ?? []).length > 0 ? `${startAfter}/` : startAfter;
  }

  async #deleteBatch(bucketKeys: string[]): Promise<void> {
    const result = await this.#send((signal) =>
      this.#client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: bucketKeys.map((Key) => ({ Key })), Quiet: true } }),
        { abortSignal: signal },
      ),
    );
    const failed = (result.Errors ?? []).filter((error) => error.Code !== 'NoSuchKey');
    if (failed.length > 0) {
      const first = failed[0]!;
      throw new Error(`S3 DeleteObjects failed for ${failed.length} keys, first ${first.Key}: ${first.Code} ${first.Message ?? ''}`);
    }
  }

  /** A read whose absence is `NotFoundError(key)`. */
  async #read<T>(key: string, call: Call<T>): Promise<T> {
    try {
      return await this.#send(call);
    } catch (err) {
      if (isMissing(err)) throw new NotFoundError(key);
      throw err;
    }
  }

  get #client() {
    return this.#gateway.client;
  }

  async *#storeKeys(bucketKeyStream: AsyncIterable<string>): AsyncIterable<string> {
    for await (const bucketKey of bucketKeyStream) yield this.#keys.strip(bucketKey);
  }

  #send<T>(call: Call<T>): Promise<T> {
    return this.#gateway.send(call);
  }
}

