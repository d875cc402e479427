import { PassThrough, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { digestAlgorithm, type Digest, type DigestAlgorithm } from '../oci/digest.ts';
import { OciError } from '../oci/errors.ts';
import type { Namespace } from '../oci/name.ts';
import type { ByteSpan } from '../oci/range.ts';
import { newSessionId, type SessionId } from '../oci/session-id.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import type { Access } from './access.ts';
import { awaitNoReclamation } from './gc-fence.ts';
import { feedFrom } from './borrowed-source.ts';
import { ExportableHash, hashingLimiter, RunningHash, type StreamHash } from './hashing.ts';
import { exists, readJson } from './json-record.ts';
import { blobKeys, uploadKeys } from './keys.ts';
import { logger } from '../observability/logging.ts';

const log = logger('angos::registry::upload');

/** Session state kept in storage, so any process sharing it can continue the session. */
interface SessionState {
  started_at: string;
  last_activity: string;
  /** For operators and scrub; the committed size is always read from the stored bytes, which a crash cannot desync. */
  committed_offset: number;
  /** Set when the session was bound to one algorithm (`digest-algorithm` or a chunked `?digest=` POST). */
  algorithm?: DigestAlgorithm;
  /** Saved hash states (base64) at `hash_offset`, kept only where stored bytes cannot be re-read (S3). */
  hash_state?: Partial<Record<DigestAlgorithm, string>>;
  hash_offset?: number;
}

/** A chunk as the client framed it: declared window and length, either optional. */
export interface Chunk {
  body: Readable | undefined;
  range: ByteSpan | undefined;
  length: number | undefined;
}

export interface UploadStatus {
  id: SessionId;
  size: number;
  startedAt: string;
}

/**
 * Upload sessions (chapter 01 §5, chapter 04 §2.1). The bytes and the state live in the blob store; the running
 * hash lives in memory of the process that last appended. Any other process re-hashes the stored bytes, or, on a
 * store whose partial uploads cannot be read back (S3), restores the hash state saved with the session.
 */
export class Uploads {
  private readonly blobs: ObjectStore;
  private readonly meta: ObjectStore;
  private readonly access: Access;
  private readonly maxBlobSize: () => number;
  /** Running hashes per session, valid while their offset equals the stored size. */
  private readonly live = new Map<SessionId, StreamHash[]>();
  /** Whether hash states must be saved with the session because the stored bytes cannot be re-read. */
  private readonly saveHashState: boolean;
  /** Per-session queue so two requests of one session in this process never interleave their appends. */
  private readonly queues = new Map<SessionId, Promise<unknown>>();

  constructor(blobs: ObjectStore, meta: ObjectStore, access: Access, maxBlobSize: () => number) {
    this.blobs = blobs;
    this.meta = meta;
    this.access = access;
    this.maxBlobSize = maxBlobSize;
    this.saveHashState = !blobs.partialUploadsReadable;
  }

  async start(ns: Namespace, algorithm?: DigestAlgorithm): Promise<SessionId> {
    const id = newSessionId();
    await this.blobs.createUpload(uploadKeys.data(ns, id));
    const now = new Date().toISOString();
    const state: SessionState = { started_at: now, last_activity: now, committed_offset: 0 };
    if (algorithm) state.algorithm = algorithm;
    await this.writeState(ns, id, state);
    return id;
  }

  async status(ns: Namespace, id: SessionId): Promise<UploadStatus> {
    const state = await this.requireState(ns, id);
    return { id, size: await this.blobs.uploadSize(uploadKeys.data(ns, id)), startedAt: state.started_at };
  }

  /** PATCH: appends one chunk, resolving with the new committed size. */
  append(ns: Namespace, id: SessionId, chunk: Chunk): Promise<number> {
    return this.serialized(id, async () => {
      const state = await this.requireState(ns, id);
      const { size, hashes } = await this.appendChunk(ns, id, state, chunk);
      const next: SessionState = { ...state, committed_offset: size, last_activity: new Date().toISOString() };
      if (this.saveHashState && hashes) {
        next.hash_state = Object.fromEntries(hashes.map((hash) => [hash.algorithm, (hash as ExportableHash).save()]));
        next.hash_offset = size;
      }
      await this.writeState(ns, id, next);
      return size;
    });
  }

  /** PUT: appends the optional final chunk, verifies the digest, promotes the bytes and grants ownership. */
  complete(ns: Namespace, id: SessionId, digest: Digest, chunk: Chunk): Promise<void> {
    return this.serialized(id, async () => {
      const state = await readJson<SessionState>(this.blobs, uploadKeys.state(ns, id));
      const committed = state ? await this.blobs.uploadSize(uploadKeys.data(ns, id)) : 0;
      if (!state) checkWindow(chunk, 0, this.maxBlobSize());
      if (committed === 0 && chunk.body && (await exists(this.blobs, blobKeys.data(digest)))) {
        // Content someone else stored, or a retry whose 201 was lost, sent with its bytes: prove possession,
        // then grant. A body-less retry of a finished session finds no session below (chapter 04 §2.1).
        await this.verifyBody(digest, chunk);
        await this.grantExisting(ns, digest);
        if (state) await this.discard(ns, id);
        return;
      }
      if (!state) throw new OciError('BLOB_UPLOAD_UNKNOWN', 'upload session not found');
      const { size, hashes } = await this.appendChunk(ns, id, state, chunk);
      if (state.algorithm && state.algorithm !== digestAlgorithm(digest)) {
        await this.discard(ns, id);
        throw new OciError('DIGEST_INVALID', `session is bound to ${state.algorithm}`);
      }
      const actual = await this.digestAt(ns, id, state, digestAlgorithm(digest), size, hashes);
      if (actual !== digest) {
        await this.discard(ns, id);
        throw new OciError('DIGEST_INVALID', `content digest ${actual} does not match ${digest}`);
      }
      await this.promote(ns, id, digest);
    });
  }

  /** Single-request upload (POST with `digest` and `Content-Length`): nothing is stored unless the bytes verify. */
  async monolithic(ns: Namespace, digest: Digest, body: Readable | undefined, length: number): Promise<void> {
    const limit = this.maxBlobSize();
    if (length > limit) throw new OciError('BLOB_UPLOAD_INVALID', 'blob exceeds the maximum allowed size');
    const chunk: Chunk = { body, range: undefined, length };
    if (await exists(this.blobs, blobKeys.data(digest))) {
      await this.verifyBody(digest, chunk);
      await this.grantExisting(ns, digest);
      return;
    }
    const id = newSessionId();
    const dataKey = uploadKeys.data(ns, id);
    await this.blobs.createUpload(dataKey);
    try {
      const hash = new RunningHash(digestAlgorithm(digest));
      const written = await this.write(dataKey, body, [hash], limit, length);
      if (written !== length) throw new OciError('SIZE_INVALID', `received ${written} bytes, declared ${length}`);
      if (hash.digest() !== digest) throw new OciError('DIGEST_INVALID', `content does not match ${digest}`);
      await this.promote(ns, id, digest);
    } catch (err) {
      await this.discard(ns, id);
      throw err;
    }
  }

  /** DELETE: idempotent. */
  async cancel(ns: Namespace, id: SessionId): Promise<void> {
    await this.serialized(id, () => this.discard(ns, id));
  }

  /** Appends a chunk; `hashes` are the session's running hashes at the new size (undefined when no body came). */
  private async appendChunk(ns: Namespace, id: SessionId, state: SessionState, chunk: Chunk): Promise<{ size: number; hashes?: StreamHash[] }> {
    const dataKey = uploadKeys.data(ns, id);
    const committed = await this.blobs.uploadSize(dataKey);
    const limit = this.maxBlobSize();
    try {
      checkWindow(chunk, committed, limit);
    } catch (err) {
      if (err instanceof OciError && err.code === 'BLOB_UPLOAD_INVALID') await this.discard(ns, id);
      throw err;
    }
    if (!chunk.body) return { size: committed };
    const hashes = await this.liveHashes(ns, id, state, committed);
    let written: number;
    try {
      written = await this.write(dataKey, chunk.body, hashes, limit - committed, chunk.length);
    } catch (err) {
      this.live.delete(id);
      if (err instanceof OciError && err.code === 'BLOB_UPLOAD_INVALID') await this.discard(ns, id);
      throw err;
    }
    const size = committed + written;
    if (hashes.every((hash) => hash.offset === size)) this.live.set(id, hashes);
    else this.live.delete(id);
    const declared = chunk.range ? chunk.range.end - chunk.range.start + 1 : chunk.length;
    if (declared !== undefined && written !== declared) {
      if (chunk.length === undefined) {
        // A chunked body that did not fill its declared window: the session cannot be trusted to line up.
        await this.discard(ns, id);
        throw new OciError('SIZE_INVALID', `chunk of ${written} bytes does not fill the declared range`);
      }
      throw new OciError('SIZE_INVALID', `received ${written} bytes, declared ${declared}`);
    }
    return { size, hashes };
  }

  /** Streams `body` into an upload object through the hash, resolving with the bytes appended. */
  private async write(dataKey: string, body: Readable | undefined, hashes: StreamHash[], allowance: number, length?: number): Promise<number> {
    if (!body) return 0;
    const limiter = hashingLimiter(hashes, allowance);
    const source = new PassThrough({ highWaterMark: 1 << 20 });
    feedFrom(body, limiter);
    const feeding = pipeline(limiter, source);
    const storing = this.blobs.writeUpload(dataKey, source, length !== undefined ? { length } : {}).catch((err: unknown) => {
      limiter.destroy(err instanceof Error ? err : new Error(String(err)));
      throw err;
    });
    const [written] = await Promise.all([storing, feeding]);
    return written;
  }

  /** Reads a body to the end through the hash of `digest`'s algorithm, without storing it, and checks it. */
  private async verifyBody(digest: Digest, chunk: Chunk): Promise<void> {
    const hash = new RunningHash(digestAlgorithm(digest));
    if (chunk.body) {
      const limiter = hashingLimiter([hash], this.maxBlobSize());
      feedFrom(chunk.body, limiter);
      await pipeline(limiter, drain());
    }
    const declared = chunk.range ? chunk.range.end - chunk.range.start + 1 : chunk.length;
    if (declared !== undefined && hash.offset !== declared) {
      throw new OciError('SIZE_INVALID', `received ${hash.offset} bytes, declared ${declared}`);
    }
    if (hash.digest() !== digest) throw new OciError('DIGEST_INVALID', `content does not match ${digest}`);
  }

  /**
   * The session's running hashes at `offset`: this process's own when current; else restored from the saved state
   * (S3), or rebuilt from the stored bytes. Unbound sessions hash SHA-256 as they go; where state must be saved,
   * SHA-512 too, since a later process could not compute it from the bytes.
   */
  private async liveHashes(ns: Namespace, id: SessionId, state: SessionState, offset: number): Promise<StreamHash[]> {
    const algorithms: DigestAlgorithm[] = state.algorithm ? [state.algorithm] : this.saveHashState ? ['sha256', 'sha512'] : ['sha256'];
    const current = this.live.get(id);
    this.live.delete(id);
    if (current && current.every((hash) => hash.offset === offset)) return current;
    if (!this.saveHashState) return [await this.rehash(ns, id, algorithms[0]!, offset)];
    if (offset === 0) return Promise.all(algorithms.map((algorithm) => ExportableHash.create(algorithm)));
    const saved = state.hash_state;
    if (state.hash_offset !== offset || !saved || algorithms.some((algorithm) => saved[algorithm] === undefined)) {
      // Bytes were committed but the process died before saving their hash: the session cannot be finished.
      await this.discard(ns, id);
      throw new OciError('BLOB_UPLOAD_UNKNOWN', 'upload session state was lost; start the upload again');
    }
    return Promise.all(algorithms.map((algorithm) => ExportableHash.create(algorithm, { state: saved[algorithm]!, offset })));
  }

  /** The digest of the first `size` bytes under `algorithm`. */
  private async digestAt(
    ns: Namespace,
    id: SessionId,
    state: SessionState,
    algorithm: DigestAlgorithm,
    size: number,
    hashes: StreamHash[] | undefined,
  ): Promise<Digest> {
    const running = hashes ?? (await this.liveHashes(ns, id, state, size));
    const found = running.find((hash) => hash.algorithm === algorithm && hash.offset === size);
    if (found) return found.digest();
    return (await this.rehash(ns, id, algorithm, size)).digest();
  }

  /** Hashes the first `offset` stored bytes of the session. */
  private async rehash(ns: Namespace, id: SessionId, algorithm: DigestAlgorithm, offset: number): Promise<RunningHash> {
    const hash = new RunningHash(algorithm);
    if (offset > 0) {
      const stored = await this.blobs.getStream(uploadKeys.data(ns, id), { start: 0, end: offset - 1 });
      await pipeline(stored, hashingLimiter([hash], offset), drain());
    }
    return hash;
  }

  /** Moves verified bytes to their content address (unless already there) and grants ownership. */
  private async promote(ns: Namespace, id: SessionId, digest: Digest): Promise<void> {
    const dataKey = uploadKeys.data(ns, id);
    // The namespace's next upload needs its sessions folder again: removing this session keeps it.
    const cleanup = { keep: uploadKeys.namespace(ns) };
    // State first: a retried PUT now finds no session and can never finalize twice.
    await this.blobs.delete(uploadKeys.state(ns, id));
    this.live.delete(id);
    await this.blobs.completeUpload(dataKey);
    if (await exists(this.blobs, blobKeys.data(digest))) {
      await this.grantExisting(ns, digest);
    } else {
      await this.blobs.move(dataKey, blobKeys.data(digest), cleanup);
      await this.access.grant(ns, digest);
    }
    await this.blobs.deletePrefix(uploadKeys.session(ns, id), cleanup).catch((err: unknown) => {
      log.warn('could not remove finished upload container', { namespace: ns, session: id, error: String(err) });
    });
  }

  /** Grants ownership of bytes that already exist, fenced against a collector reclaiming them (chapter 04 §2.1). */
  private async grantExisting(ns: Namespace, digest: Digest): Promise<void> {
    await this.access.grant(ns, digest);
    await awaitNoReclamation(this.meta, [digest]);
    if (!(await exists(this.blobs, blobKeys.data(digest)))) {
      throw new OciError('RECLAMATION_IN_PROGRESS', 'blob was reclaimed; retry', { headers: { 'retry-after': '1' } });
    }
  }

  private async discard(ns: Namespace, id: SessionId): Promise<void> {
    this.live.delete(id);
    await this.blobs.abortUpload(uploadKeys.data(ns, id));
    await this.blobs.deletePrefix(uploadKeys.session(ns, id));
  }

  private async requireState(ns: Namespace, id: SessionId): Promise<SessionState> {
    const state = await readJson<SessionState>(this.blobs, uploadKeys.state(ns, id));
    if (!state) throw new OciError('BLOB_UPLOAD_UNKNOWN', 'upload session not found');
    return state;
  }

  private writeState(ns: Namespace, id: SessionId, state: SessionState): Promise<void> {
    return this.blobs.put(uploadKeys.state(ns, id), JSON.stringify(state));
  }

  private serialized<T>(id: SessionId, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(id) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.queues.set(id, settled);
    void settled.then(() => {
      if (this.queues.get(id) === settled) this.queues.delete(id);
    });
    return next;
  }
}

/** The PATCH/PUT window checks that need the committed size (chapter 01 §5.4 rules 4–5). */
function checkWindow(chunk: Chunk, committed: number, limit: number): void {
  const { range, length } = chunk;
  if (range && range.start !== committed) {
    throw new OciError('SIZE_INVALID', `range starts at ${range.start}, expected ${committed}`);
  }
  if (range && length !== undefined && length !== range.end - range.start + 1) {
    throw new OciError('SIZE_INVALID', 'Content-Length does not match Content-Range');
  }
  if (length !== undefined && committed + length > limit) {
    throw new OciError('BLOB_UPLOAD_INVALID', 'blob exceeds the maximum allowed size');
  }
}

/** A sink that discards what it is given: for bytes that are hashed but not stored. */
function drain(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}

