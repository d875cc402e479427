import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Digest, DigestAlgorithm } from '../oci/digest.ts';
import type { Namespace } from '../oci/name.ts';
import type { SessionId } from '../oci/session-id.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { ExportableHash, hashingLimiter, RunningHash, type StreamHash } from './hashing.ts';
import { uploadKeys } from './keys.ts';

/** What a session's stored state says about its hashing. */
export interface HashState {
  /** Set when the session was bound to one algorithm (`digest-algorithm` or a chunked `?digest=` POST). */
  algorithm?: DigestAlgorithm;
  /** Saved hash states (base64) at `hash_offset`, kept only where stored bytes cannot be re-read (S3). */
  hash_state?: Partial<Record<DigestAlgorithm, string>>;
  hash_offset?: number;
  /**
   * The states at the size an append in progress is about to commit, saved just before its commit: if the process
   * dies between the commit and the next state write, the committed size still has its hash state.
   */
  pending?: { offset: number; state: Partial<Record<DigestAlgorithm, string>> };
}

type SavedStates = Partial<Record<DigestAlgorithm, string>>;

/**
 * The running hash of every upload session, had in one of three ways (docs/storage.md, "Uploads"): *live*, kept in
 * memory by the process that appended last; *restored* from the state saved with the session, where stored bytes
 * cannot be read back (S3 multipart parts); or *re-hashed* from the stored bytes by any other process.
 */
export class SessionHasher {
  readonly #blobs: ObjectStore;
  /** Running hashes per session, valid while their offset equals the stored size. */
  readonly #live = new Map<SessionId, StreamHash[]>();
  /** Whether hash states must travel with the session because the stored bytes cannot be re-read. */
  readonly savesState: boolean;

  constructor(blobs: ObjectStore) {
    this.#blobs = blobs;
    this.savesState = !blobs.partialUploadsReadable;
  }

  /**
   * Hashes of the session's first `offset` bytes, to continue it: live when current, else restored or re-hashed.
   * Unbound sessions hash SHA-256 as they go; where state must be saved, SHA-512 too, since a later process could
   * not compute it from the bytes. Undefined when bytes were committed but their hash state was lost (a process
   * died between appending and saving): such a session cannot be finished.
   */
  async resume(ns: Namespace, id: SessionId, state: HashState, offset: number): Promise<StreamHash[] | undefined> {
    const algorithms: DigestAlgorithm[] = state.algorithm ? [state.algorithm] : this.savesState ? ['sha256', 'sha512'] : ['sha256'];
    const current = this.#live.get(id);
    this.#live.delete(id);
    if (current && current.every((hash) => hash.offset === offset)) return current;
    if (!this.savesState) return [await this.#rehash(ns, id, algorithms[0]!, offset)];
    if (offset === 0) return Promise.all(algorithms.map((algorithm) => ExportableHash.create(algorithm)));
    const saved = state.hash_offset === offset ? state.hash_state : state.pending?.offset === offset ? state.pending.state : undefined;
    if (!saved || algorithms.some((algorithm) => saved[algorithm] === undefined)) return undefined;
    return Promise.all(algorithms.map((algorithm) => ExportableHash.create(algorithm, { state: saved[algorithm]!, offset })));
  }

  /** After an append reached `size`: the hashes stay live if they saw every byte, and their state to save with the session. */
  settle(id: SessionId, hashes: StreamHash[], size: number): Pick<HashState, 'hash_state' | 'hash_offset'> {
    const current = hashes.every((hash) => hash.offset === size);
    if (current) this.#live.set(id, hashes);
    else this.#live.delete(id);
    const saved = this.savedAt(hashes, size);
    return saved === undefined ? {} : { hash_state: saved, hash_offset: size };
  }

  /** The states to save for `size` bytes, where state must be saved and the hashes saw exactly that many. */
  savedAt(hashes: readonly StreamHash[], size: number): SavedStates | undefined {
    if (!this.savesState || !hashes.every((hash) => hash.offset === size)) return undefined;
    return Object.fromEntries(hashes.map((hash) => [hash.algorithm, (hash as ExportableHash).save()]));
  }

  forget(id: SessionId): void {
    this.#live.delete(id);
  }

  /** The digest of the session's first `size` bytes under `algorithm`, from `hashes` when one of them is it. */
  async digestAt(ns: Namespace, id: SessionId, algorithm: DigestAlgorithm, size: number, hashes: readonly StreamHash[]): Promise<Digest> {
    const found = hashes.find((hash) => hash.algorithm === algorithm && hash.offset === size);
    return (found ?? (await this.#rehash(ns, id, algorithm, size))).digest();
  }

  async #rehash(ns: Namespace, id: SessionId, algorithm: DigestAlgorithm, offset: number): Promise<RunningHash> {
    const hash = new RunningHash(algorithm);
    if (offset > 0) {
      const stored = await this.#blobs.getStream(uploadKeys.data(ns, id), { start: 0, end: offset - 1 });
      await pipeline(stored, hashingLimiter([hash], offset), drain());
    }
    return hash;
  }
}

/** A sink that discards what it is given: for bytes that are hashed but not stored. */
export function drain(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}
