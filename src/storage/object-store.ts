import type { Readable } from 'node:stream';

/**
 * The one interface every storage backend implements (fs now, s3 next).
 *
 * Keys are `/`-separated relative paths made only by `src/registry/keys.ts`. A key never doubles as a "directory"
 * of another key, so a filesystem backend can map keys to files one to one. Every listing is in ascending byte
 * order of the full key, so "newest first" can be encoded in key names (docs/storage.md, "Tags") and read back with
 * one listing.
 */
export interface ObjectStore {
  /** Whole object. Throws `NotFoundError` when absent. For small records only (JSON, manifests). */
  get(key: string): Promise<Buffer>;
  /** Stream of the object's bytes, from `range.start` to `range.end` inclusive (default: all). Throws `NotFoundError`. */
  getStream(key: string, range?: ByteRange): Promise<Readable>;
  /** Size and modification time. Throws `NotFoundError`. */
  head(key: string): Promise<ObjectMeta>;
  /** Atomic whole-object replace: readers see the old or the new object, never a mix. */
  put(key: string, body: Buffer | string): Promise<void>;
  /** Atomic create: true when this call created the object, false when it already existed (fully written). */
  createIfAbsent(key: string, body: Buffer | string): Promise<boolean>;
  /** Idempotent: absent is fine. */
  delete(key: string, options?: CleanupOptions): Promise<void>;
  /** Deletes every key under `prefix/` (a directory boundary: `a/b` never touches `a/bc`). Empty prefix is a no-op. */
  deletePrefix(prefix: string, options?: CleanupOptions): Promise<void>;
  /**
   * Flat listing of every key below `prefix/`, ascending byte order, at most `limit` (default 1000) keys,
   * strictly after `startAfter` (a full key, existing or not) when given. `next` is set when more may follow.
   * `prefix` `''` lists the whole store; one trailing `/` on it is ignored.
   */
  list(prefix: string, options?: ListOptions): Promise<ListPage>;
  /**
   * One level below `prefix/`: the child names (not full keys), ascending byte order of `name` plus a
   * trailing `/` for children that have children, so the order matches `list`. `startAfter` is a child name
   * (a prefix child may be named with or without its `/`; either way the listing resumes after that whole
   * prefix) or a previous page's `next`.
   */
  listChildren(prefix: string, options?: ListOptions): Promise<ChildrenPage>;
  /**
   * Per prefix, a token that changes whenever a key directly below `prefix/` is added, replaced or removed, so what
   * was read from there can be reused while it holds; undefined when the backend cannot vouch for that (nothing is
   * reused). Asked for many prefixes at once, so a listing checks all of them in one call.
   */
  changeStamps?(prefixes: readonly string[]): Promise<Array<string | undefined>>;
  /** Server-side copy; throws `NotFoundError` if `from` is absent. */
  copy(from: string, to: string): Promise<void>;
  /**
   * Server-side move (fs: rename); throws `NotFoundError` if `from` is absent. The object's modification time at
   * `to` is the time of the move (an S3 copy's is; a filesystem sets it), so age gates see it as new there. `options` apply to `from`'s removal;
   * `size`, when the caller knows `from`'s size, spares S3 the HEAD that chooses the copy strategy.
   */
  move(from: string, to: string, options?: CleanupOptions & { size?: number }): Promise<void>;

  /** Whether an upload's bytes can be read back (`getStream`) before it is completed: fs yes, S3 multipart no. */
  readonly partialUploadsReadable: boolean;
  /**
   * Upload primitive: append-only object built across calls, possibly from several processes. Creating discards
   * whatever an earlier upload left under `key`, unless `fresh` says the key was never used (a new random session
   * id), which spares S3 the listings that find nothing.
   */
  createUpload(key: string, options?: { fresh?: boolean }): Promise<void>;
  /**
   * Appends the stream at the end of the upload object and resolves with the number of bytes appended.
   * Honours backpressure. Bytes received before a source error stay appended (the error is rethrown), except
   * that a write with a known `length` may be all or nothing (S3 streams it as one part): callers re-read
   * `uploadSize` after a failure. Throws `NotFoundError` when the upload was never created or was aborted.
   */
  writeUpload(key: string, body: Readable, options?: UploadWriteOptions): Promise<number>;
  /** Current committed size of the upload object. Throws `NotFoundError`. */
  uploadSize(key: string): Promise<number>;
  /** Seals the upload so it can be read and moved like any object; resolves with its size. */
  completeUpload(key: string): Promise<number>;
  /** Discards the upload's bytes; idempotent. */
  abortUpload(key: string): Promise<void>;

  /** Whether `presign` can return URLs (object storage); callers skip redirect work when it cannot. */
  readonly canPresign: boolean;
  /** A presigned GET URL, or undefined when the backend cannot presign (fs never can). */
  presign(key: string, ttlSeconds: number, responseContentType?: string): Promise<string | undefined>;
}

/** What a removal leaves behind; object stores have no directories and ignore it. */
export interface CleanupOptions {
  /**
   * A prefix above the removed keys that writers are about to use again (the sessions folder of a namespace): a
   * filesystem keeps its directory, and those above it, when they become empty, instead of removing them only for
   * the next write to create them again (deletes otherwise prune empty parents, docs/storage.md).
   */
  keep?: string;
}

export interface UploadWriteOptions {
  /**
   * Exactly how many bytes `body` delivers, when known (a request's Content-Length). A hint: S3 streams such a write
   * as one part instead of buffering; a body delivering another count fails the write. fs ignores it.
   */
  length?: number;
  /**
   * Where an upload's bytes cannot be read back (S3), called with the upload's new size once the appended bytes are
   * stored and before they count: the caller saves what it must keep about them (the hash state), so a crash on
   * either side of the commit leaves a state that matches the committed size. Stores that append in place ignore it.
   */
  beforeCommit?: (size: number) => Promise<void>;
}

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end?: number;
}

export interface ObjectMeta {
  size: number;
  /** Absent when the backend does not know; age gates treat that as young. */
  lastModified?: Date;
}

export interface ListOptions {
  limit?: number;
  startAfter?: string;
}

export interface ListPage {
  keys: string[];
  /** Pass back as `startAfter` to continue; undefined on the last page. */
  next?: string;
}

export interface Child {
  name: string;
  /** True when the child has children of its own (a "directory"). */
  isPrefix: boolean;
}

export interface ChildrenPage {
  children: Child[];
  /** Pass back as `startAfter` to continue (the last child's name, `/`-terminated for a prefix); undefined on the last page. */
  next?: string;
}

/**
 * The backend is known to be down and refuses calls without trying (an open circuit breaker). The HTTP layer
 * answers 503 with `Retry-After` instead of a 500, so clients back off rather than pile up.
 */
export class StorageUnavailableError extends Error {
  readonly retryAfterSecs: number;
  constructor(message: string, retryAfterMs: number) {
    super(message);
    this.name = 'StorageUnavailableError';
    this.retryAfterSecs = Math.max(1, Math.ceil(retryAfterMs / 1000));
  }
}

/** The requested key does not exist. Besides `StorageUnavailableError`, the only error the registry layer interprets; anything else is a storage fault. */
export class NotFoundError extends Error {
  readonly key: string;
  constructor(key: string) {
    super(`not found: ${key}`);
    this.name = 'NotFoundError';
    this.key = key;
  }
}

export function isNotFound(err: unknown): err is NotFoundError {
  return err instanceof NotFoundError;
}
