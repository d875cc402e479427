import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { digestAlgorithm, type Digest, type DigestAlgorithm } from '../oci/digest.ts';
import type { Namespace } from '../oci/name.ts';
import type { ByteSpan } from '../oci/range.ts';
import { newSessionId, type SessionId } from '../oci/session-id.ts';
import { isNotFound, type ObjectStore } from '../storage/object-store.ts';
import { logger } from '../observability/logging.ts';
import { reclaimedMeanwhile, type Access } from './access.ts';
import { feedFrom } from './borrowed-source.ts';
import { isRegistryError, RegistryError } from './errors.ts';
import { nowMicros, type Actor, type Announcer, type ChangeEvent } from './events.ts';
import { hashingLimiter, RunningHash, type StreamHash } from './hashing.ts';
import { exists, listAll, readJson } from './json-record.ts';
import { blobKeys, uploadKeys } from './keys.ts';
import { drain, SessionHasher, type HashState } from './session-hasher.ts';

const log = logger('angos::registry::upload');

/** Session state kept in storage, so any process sharing it can continue the session. */
interface SessionState extends HashState {
  started_at: string;
  last_activity: string;
  /** For operators and scrub; the committed size is always read from the stored bytes, which a crash cannot desync. */
  committed_offset: number;
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
 * Upload sessions (docs/storage.md, "Uploads"). The bytes and the state live in the blob store, so any process
 * sharing it can continue a session; `SessionHasher` keeps the running hash.
 */
export class Uploads {
  readonly #blobs: ObjectStore;
  readonly #access: Access;
  readonly #announce: Announcer;
  readonly #hasher: SessionHasher;
  readonly #maxBlobSize: () => number;
  /** Per-session queue so two requests of one session in this process never interleave their appends. */
  readonly #queues = new Map<SessionId, Promise<unknown>>();

  constructor(blobs: ObjectStore, access: Access, announce: Announcer, maxBlobSize: () => number) {
    this.#blobs = blobs;
    this.#access = access;
    this.#announce = announce;
    this.#maxBlobSize = maxBlobSize;
    this.#hasher = new SessionHasher(blobs);
  }

  async start(ns: Namespace, algorithm?: DigestAlgorithm): Promise<SessionId> {
    const id = newSessionId();
    await this.#blobs.createUpload(uploadKeys.data(ns, id), { fresh: true });
    const now = new Date().toISOString();
    const state: SessionState = { started_at: now, last_activity: now, committed_offset: 0 };
    if (algorithm) state.algorithm = algorithm;
    await this.#writeState(ns, id, state);
    return id;
  }

  async status(ns: Namespace, id: SessionId): Promise<UploadStatus> {
    const state = await this.#requireState(ns, id);
    return { id, size: await this.#blobs.uploadSize(uploadKeys.data(ns, id)), startedAt: state.started_at };
  }

  /** PATCH: appends one chunk, resolving with the new committed size. */
  append(ns: Namespace, id: SessionId, chunk: Chunk): Promise<number> {
    return this.#serialized(id, async () => {
      const state = await this.#requireState(ns, id);
      const { size, saved } = await this.#appendChunk(ns, id, state, chunk);
      const { pending: _, ...settled } = state;
      await this.#writeState(ns, id, { ...settled, ...saved, committed_offset: size, last_activity: new Date().toISOString() });
      return size;
    });
  }

  /** PUT: appends the optional final chunk, verifies the digest, promotes the bytes and grants ownership. */
  complete(ns: Namespace, id: SessionId, digest: Digest, chunk: Chunk, actor: Actor): Promise<void> {
    return this.#serialized(id, async () => {
      const state = await readJson<SessionState>(this.#blobs, uploadKeys.state(ns, id));
      const committed = state ? await this.#blobs.uploadSize(uploadKeys.data(ns, id)) : 0;
      if (!state) checkWindow(chunk, 0, this.#maxBlobSize());
      if (committed === 0 && chunk.body && (await exists(this.#blobs, blobKeys.data(digest)))) {
        // Content someone else stored, or a retry whose 201 was lost, sent with its bytes: prove possession,
        // then grant. A body-less retry of a finished session finds no session below.
        await this.#verifyBody(digest, chunk);
        await this.#grantProven(ns, digest, actor);
        if (state) await this.#discard(ns, id);
        return;
      }
      if (!state) throw sessionUnknown();
      const appended = await this.#appendChunk(ns, id, state, chunk, committed);
      if (state.algorithm && state.algorithm !== digestAlgorithm(digest)) {
        await this.#discard(ns, id);
        throw new RegistryError('digest-mismatch', `session is bound to ${state.algorithm}`);
      }
      const hashes = appended.hashes ?? (await this.#resume(ns, id, state, appended.size));
      const actual = await this.#hasher.digestAt(ns, id, digestAlgorithm(digest), appended.size, hashes);
      if (actual !== digest) {
        await this.#discard(ns, id);
        throw new RegistryError('digest-mismatch', `content digest ${actual} does not match ${digest}`);
      }
      await this.#commit(ns, id, digest, actor);
    });
  }

  /**
   * A cache fill of content already stored (docs/pull-through.md): the upstream answered for the digest, so the
   * namespace is granted the bytes without receiving them again. False when the bytes are not here.
   */
  async adopt(ns: Namespace, digest: Digest, actor: Actor): Promise<boolean> {
    if (!(await exists(this.#blobs, blobKeys.data(digest)))) return false;
    await this.#grantProven(ns, digest, actor);
    return true;
  }

  /** Single-request upload (POST with `digest` and `Content-Length`): nothing is stored unless the bytes verify. */
  async monolithic(ns: Namespace, digest: Digest, body: Readable | undefined, length: number, actor: Actor): Promise<void> {
    const limit = this.#maxBlobSize();
    if (length > limit) throw tooLarge();
    const chunk: Chunk = { body, range: undefined, length };
    if (await exists(this.#blobs, blobKeys.data(digest))) {
      await this.#verifyBody(digest, chunk);
      await this.#grantProven(ns, digest, actor);
      return;
    }
    const id = newSessionId();
    const dataKey = uploadKeys.data(ns, id);
    await this.#blobs.createUpload(dataKey, { fresh: true });
    try {
      const hash = new RunningHash(digestAlgorithm(digest));
      const written = await this.#write(dataKey, body, [hash], limit, length);
      if (written !== length) throw new RegistryError('size-mismatch', `received ${written} bytes, declared ${length}`);
      if (hash.digest() !== digest) throw new RegistryError('digest-mismatch', `content does not match ${digest}`);
    } catch (err) {
      await this.#discard(ns, id);
      throw err;
    }
    await this.#commit(ns, id, digest, actor);
  }

  /**
   * How long a session has been idle, for `scrub --uploads`: its last activity, or the newest write to its bytes
   * when that is later (an append in progress). `broken` when its record is missing or unreadable; then the age of
   * its newest object tells whether it is abandoned.
   */
  async idleSince(ns: Namespace, id: SessionId): Promise<{ kind: 'session' | 'broken'; since: Date | undefined }> {
    let state: SessionState | undefined;
    try {
      state = await readJson<SessionState>(this.#blobs, uploadKeys.state(ns, id));
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
    }
    const activity = state === undefined ? Number.NaN : Date.parse(state.last_activity);
    const objects = await Promise.all((await listAll(this.#blobs, uploadKeys.session(ns, id))).map((key) => this.#modified(key)));
    const newest = objects.reduce<number | undefined>((max, at) => (at === undefined ? max : Math.max(max ?? 0, at.getTime())), undefined);
    if (Number.isNaN(activity)) return { kind: 'broken', since: newest === undefined ? undefined : new Date(newest) };
    return { kind: 'session', since: new Date(Math.max(activity, newest ?? 0)) };
  }

  async #modified(key: string): Promise<Date | undefined> {
    try {
      return (await this.#blobs.head(key)).lastModified;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** DELETE: idempotent. */
  async cancel(ns: Namespace, id: SessionId): Promise<void> {
    await this.#serialized(id, () => this.#discard(ns, id));
  }

  /**
   * Appends a chunk; `hashes` are the session's running hashes at the new size (undefined when no body came).
   * `known` is the upload's size when the caller has just read it under the session's lock.
   */
  async #appendChunk(
    ns: Namespace,
    id: SessionId,
    state: SessionState,
    chunk: Chunk,
    known?: number,
  ): Promise<{ size: number; hashes?: StreamHash[]; saved?: Pick<HashState, 'hash_state' | 'hash_offset'> }> {
    const dataKey = uploadKeys.data(ns, id);
    const committed = known ?? (await this.#blobs.uploadSize(dataKey));
    const limit = this.#maxBlobSize();
    try {
      checkWindow(chunk, committed, limit);
    } catch (err) {
      if (isRegistryError(err, 'blob-too-large')) await this.#discard(ns, id);
      throw err;
    }
    if (!chunk.body) return { size: committed };
    const hashes = await this.#resume(ns, id, state, committed);
    // Where hash states are saved (S3), the state at the new size is saved before the new bytes count.
    const beforeCommit = this.#hasher.savesState
      ? async (size: number) => {
          const pending = this.#hasher.savedAt(hashes, size);
          if (pending) await this.#writeState(ns, id, { ...state, pending: { offset: size, state: pending } });
        }
      : undefined;
    let written: number;
    try {
      written = await this.#write(dataKey, chunk.body, hashes, limit - committed, chunk.length, beforeCommit);
    } catch (err) {
      this.#hasher.forget(id);
      if (isRegistryError(err, 'blob-too-large')) await this.#discard(ns, id);
      throw err;
    }
    const size = committed + written;
    const saved = this.#hasher.settle(id, hashes, size);
    const declared = chunk.range ? chunk.range.end - chunk.range.start + 1 : chunk.length;
    if (declared !== undefined && written !== declared) {
      if (chunk.length === undefined) {
        // A chunked body that did not fill its declared window: the session cannot be trusted to line up.
        await this.#discard(ns, id);
        throw new RegistryError('size-mismatch', `chunk of ${written} bytes does not fill the declared range`);
      }
      throw new RegistryError('size-mismatch', `received ${written} bytes, declared ${declared}`);
    }
    return { size, hashes, saved };
  }

  /** The session's hashes at `offset`; a session whose hash state was lost is discarded. */
  async #resume(ns: Namespace, id: SessionId, state: SessionState, offset: number): Promise<StreamHash[]> {
    const hashes = await this.#hasher.resume(ns, id, state, offset);
    if (hashes) return hashes;
    await this.#discard(ns, id);
    throw new RegistryError('blob-upload-unknown', 'upload session state was lost; start the upload again');
  }

  /** Streams `body` into an upload object through the hash, resolving with the bytes appended. */
  async #write(
    dataKey: string,
    body: Readable | undefined,
    hashes: StreamHash[],
    allowance: number,
    length?: number,
    beforeCommit?: (size: number) => Promise<void>,
  ): Promise<number> {
    if (!body) return 0;
    const limiter = hashingLimiter(hashes, allowance);
    const source = new PassThrough({ highWaterMark: 1 << 20 });
    feedFrom(body, limiter);
    const feeding = pipeline(limiter, source);
    const options = { ...(length !== undefined ? { length } : {}), ...(beforeCommit ? { beforeCommit } : {}) };
    const storing = this.#blobs.writeUpload(dataKey, source, options).catch((err: unknown) => {
      limiter.destroy(err instanceof Error ? err : new Error(String(err)));
      throw err;
    });
    const [written] = await Promise.all([storing, feeding]);
    return written;
  }

  /** Reads a body to the end through the hash of `digest`'s algorithm, without storing it, and checks it. */
  async #verifyBody(digest: Digest, chunk: Chunk): Promise<void> {
    const hash = new RunningHash(digestAlgorithm(digest));
    if (chunk.body) {
      const limiter = hashingLimiter([hash], this.#maxBlobSize());
      feedFrom(chunk.body, limiter);
      await pipeline(limiter, drain());
    }
    const declared = chunk.range ? chunk.range.end - chunk.range.start + 1 : chunk.length;
    if (declared !== undefined && hash.offset !== declared) {
      throw new RegistryError('size-mismatch', `received ${hash.offset} bytes, declared ${declared}`);
    }
    if (hash.digest() !== digest) throw new RegistryError('digest-mismatch', `content does not match ${digest}`);
  }

  /** Grants bytes that already exist to a client that proved it holds them, as a completed upload. */
  async #grantProven(ns: Namespace, digest: Digest, actor: Actor): Promise<void> {
    const event = completed(ns, digest, actor);
    await this.#announce.before(event);
    if (!(await this.#access.grantExisting(ns, digest))) throw reclaimedMeanwhile(digest);
    this.#announce.after(event);
  }

  /** Announces a verified session's bytes, then promotes them (a veto discards the session). */
  async #commit(ns: Namespace, id: SessionId, digest: Digest, actor: Actor): Promise<void> {
    const event = completed(ns, digest, actor);
    try {
      await this.#announce.before(event);
    } catch (err) {
      await this.#discard(ns, id);
      throw err;
    }
    await this.#promote(ns, id, digest);
    this.#announce.after(event);
  }

  /** Moves verified bytes to their content address (unless already there) and grants ownership. */
  async #promote(ns: Namespace, id: SessionId, digest: Digest): Promise<void> {
    const dataKey = uploadKeys.data(ns, id);
    // The namespace's next upload needs its sessions folder again: removing this session keeps it.
    const cleanup = { keep: uploadKeys.namespace(ns) };
    // State first: a retried PUT now finds no session and can never finalize twice.
    await this.#blobs.delete(uploadKeys.state(ns, id));
    this.#hasher.forget(id);
    const size = await this.#blobs.completeUpload(dataKey);
    const granted = (await exists(this.#blobs, blobKeys.data(digest))) && (await this.#access.grantExisting(ns, digest));
    if (!granted) {
      await this.#blobs.move(dataKey, blobKeys.data(digest), { ...cleanup, size });
      await this.#access.grant(ns, digest);
    }
    await this.#blobs.deletePrefix(uploadKeys.session(ns, id), cleanup).catch((err: unknown) => {
      log.warn('could not remove finished upload container', { namespace: ns, session: id, error: String(err) });
    });
  }

  async #discard(ns: Namespace, id: SessionId): Promise<void> {
    this.#hasher.forget(id);
    await this.#blobs.abortUpload(uploadKeys.data(ns, id));
    await this.#blobs.deletePrefix(uploadKeys.session(ns, id));
  }

  async #requireState(ns: Namespace, id: SessionId): Promise<SessionState> {
    const state = await readJson<SessionState>(this.#blobs, uploadKeys.state(ns, id));
    if (!state) throw sessionUnknown();
    return state;
  }

  #writeState(ns: Namespace, id: SessionId, state: SessionState): Promise<void> {
    return this.#blobs.put(uploadKeys.state(ns, id), JSON.stringify(state));
  }

  #serialized<T>(id: SessionId, work: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(id) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.#queues.set(id, settled);
    void settled.then(() => {
      if (this.#queues.get(id) === settled) this.#queues.delete(id);
    });
    return next;
  }
}

function completed(ns: Namespace, digest: Digest, actor: Actor): ChangeEvent {
  return { kind: 'blob-upload-completed', namespace: ns, actor, authoredAt: nowMicros(), digest };
}

/** The PATCH/PUT window checks that need the committed size (docs/api.md, "Uploads"). */
function checkWindow(chunk: Chunk, committed: number, limit: number): void {
  const { range, length } = chunk;
  if (range && range.start !== committed) {
    throw new RegistryError('size-mismatch', `range starts at ${range.start}, expected ${committed}`);
  }
  if (range && length !== undefined && length !== range.end - range.start + 1) {
    throw new RegistryError('size-mismatch', 'Content-Length does not match Content-Range');
  }
  if (length !== undefined && committed + length > limit) throw tooLarge();
}

function tooLarge(): RegistryError {
  return new RegistryError('blob-too-large', 'blob exceeds the maximum allowed size');
}

function sessionUnknown(): RegistryError {
  return new RegistryError('blob-upload-unknown', 'upload session not found');
}
