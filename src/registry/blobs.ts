import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.ts';
import type { Namespace } from '../oci/name.ts';
import type { ByteSpan } from '../oci/range.ts';
import { isNotFound, type ObjectStore } from '../storage/object-store.ts';
import type { Access } from './access.ts';
import { RegistryError } from './errors.ts';
import { nowMicros, type Actor, type Announcer, type ChangeEvent } from './events.ts';
import { blobKeys } from './keys.ts';

/** A blob a namespace may read: only `Blobs.stat` makes one, so holding it proves the read check passed. */
export interface ReadableBlob {
  readonly namespace: Namespace;
  readonly digest: Digest;
  readonly size: number;
}

/** Reading, mounting and deleting blobs, per namespace (docs/storage.md, "Who may read a blob"). */
export class Blobs {
  readonly #blobs: ObjectStore;
  readonly #access: Access;
  readonly #announce: Announcer;
  readonly #presignTtlSecs: () => number;

  constructor(blobs: ObjectStore, access: Access, announce: Announcer, presignTtlSecs: () => number) {
    this.#blobs = blobs;
    this.#access = access;
    this.#announce = announce;
    this.#presignTtlSecs = presignTtlSecs;
  }

  /** A blob the namespace may read, with its size, else `blob-unknown`. Not a pull: HEAD and existence checks use it. */
  async stat(ns: Namespace, digest: Digest): Promise<ReadableBlob> {
    if (!(await this.#access.canRead(ns, digest))) throw unknown(digest);
    try {
      return { namespace: ns, digest, size: (await this.#blobs.head(blobKeys.data(digest))).size };
    } catch (err) {
      if (isNotFound(err)) throw unknown(digest);
      throw err;
    }
  }

  /** A client's download of the blob (a span of it when given), announced as a pull. */
  async pull(blob: ReadableBlob, actor: Actor, span?: ByteSpan): Promise<Readable> {
    const body = await this.#open(blob.digest, span);
    this.#announce.after({ kind: 'blob-pulled', namespace: blob.namespace, actor, authoredAt: nowMicros(), digest: blob.digest });
    return body;
  }

  /** A client's download answered by a presigned URL, announced as a pull; undefined when the store cannot presign. */
  async pullRedirect(blob: ReadableBlob, actor: Actor): Promise<string | undefined> {
    const location = await this.presign(blob.digest);
    if (location !== undefined) {
      this.#announce.after({ kind: 'blob-pulled', namespace: blob.namespace, actor, authoredAt: nowMicros(), digest: blob.digest });
    }
    return location;
  }

  /** Whether `presign` can answer with a URL (object storage). */
  get canPresign(): boolean {
    return this.#blobs.canPresign;
  }

  /** A presigned URL for stored bytes (a blob's or a manifest's); `contentType` is what the URL will answer with. */
  presign(digest: Digest, contentType?: string): Promise<string | undefined> {
    return this.#blobs.presign(blobKeys.data(digest), this.#presignTtlSecs(), contentType);
  }

  /**
   * Cross-repository mount: grants N the blob when a candidate source namespace can read it and the caller may
   * read the source (`mayRead`, the authorization check). Resolves false when no source qualifies, or the bytes
   * went away meanwhile: the client then uploads them.
   */
  async mount(ns: Namespace, digest: Digest, from: Namespace | undefined, mayRead: (source: Namespace) => Promise<boolean>, actor: Actor): Promise<boolean> {
    const candidates = from ? [from] : await this.#access.holders(digest, 32);
    for (const source of candidates) {
      if (!(await this.#access.canRead(source, digest))) continue;
      if (!(await mayRead(source))) continue;
      try {
        await this.#blobs.head(blobKeys.data(digest));
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
      const event: ChangeEvent = { kind: 'blob-mounted', namespace: ns, actor, authoredAt: nowMicros(), digest, from: source };
      await this.#announce.before(event);
      if (!(await this.#access.grantExisting(ns, digest))) return false;
      this.#announce.after(event);
      return true;
    }
    return false;
  }

  /** Revokes N's ownership; refused while a live manifest of N uses the blob. Bytes are reclaimed later. */
  async delete(ns: Namespace, digest: Digest, actor: Actor): Promise<void> {
    if (!(await this.#access.hasAnyKey(ns, digest))) throw unknown(digest);
    if (await this.#access.referencedByLiveManifest(ns, digest, false)) {
      throw new RegistryError('blob-still-referenced', `blob ${digest} is referenced by a manifest in '${ns}'; delete the manifest first`);
    }
    const event: ChangeEvent = { kind: 'blob-deleted', namespace: ns, actor, authoredAt: nowMicros(), digest };
    await this.#announce.before(event);
    await this.#access.revoke(ns, digest);
    this.#announce.after(event);
  }

  async #open(digest: Digest, span?: ByteSpan): Promise<Readable> {
    try {
      return await this.#blobs.getStream(blobKeys.data(digest), span);
    } catch (err) {
      if (isNotFound(err)) throw unknown(digest);
      throw err;
    }
  }
}

function unknown(digest: Digest): RegistryError {
  return new RegistryError('blob-unknown', `blob ${digest} unknown to this repository`);
}
