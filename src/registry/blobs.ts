import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.ts';
import { OciError } from '../oci/errors.ts';
import type { Namespace } from '../oci/name.ts';
import type { ByteSpan } from '../oci/range.ts';
import { isNotFound, type ObjectStore } from '../storage/object-store.ts';
import type { Access } from './access.ts';
import { awaitNoReclamation } from './gc-fence.ts';
import { blobKeys } from './keys.ts';

/** Reading, mounting and deleting blobs, per namespace (chapter 01 §4, chapter 04 §3.1). */
export class Blobs {
  private readonly blobs: ObjectStore;
  private readonly meta: ObjectStore;
  private readonly access: Access;
  private readonly presignTtlSecs: () => number;

  constructor(blobs: ObjectStore, meta: ObjectStore, access: Access, presignTtlSecs: () => number) {
    this.blobs = blobs;
    this.meta = meta;
    this.access = access;
    this.presignTtlSecs = presignTtlSecs;
  }

  /** Size of a blob the namespace may read, else `BLOB_UNKNOWN`. */
  async stat(ns: Namespace, digest: Digest): Promise<{ size: number }> {
    if (!(await this.access.canRead(ns, digest))) throw unknown(digest);
    try {
      return { size: (await this.blobs.head(blobKeys.data(digest))).size };
    } catch (err) {
      if (isNotFound(err)) throw unknown(digest);
      throw err;
    }
  }

  /** The blob's bytes (a span of them when given); the caller checked readability with `stat`. */
  async open(digest: Digest, span?: ByteSpan): Promise<Readable> {
    try {
      return await this.blobs.getStream(blobKeys.data(digest), span);
    } catch (err) {
      if (isNotFound(err)) throw unknown(digest);
      throw err;
    }
  }

  /** Whether `presign` can answer with a URL (object storage). */
  get canPresign(): boolean {
    return this.blobs.canPresign;
  }

  /** A presigned URL for the bytes (a blob's or a manifest's), when the store can presign; `contentType` is what the URL will answer with. */
  presign(digest: Digest, contentType?: string): Promise<string | undefined> {
    return this.blobs.presign(blobKeys.data(digest), this.presignTtlSecs(), contentType);
  }

  /**
   * Cross-repository mount: grants N the blob when a candidate source namespace can read it and the caller may
   * read the source (`mayRead`, the authorization check). Resolves false when no source qualifies.
   */
  async mount(ns: Namespace, digest: Digest, from: Namespace | undefined, mayRead: (source: Namespace) => Promise<boolean>): Promise<boolean> {
    const candidates = from ? [from] : await this.access.holders(digest, 32);
    for (const source of candidates) {
      if (!(await this.access.canRead(source, digest))) continue;
      if (!(await mayRead(source))) continue;
      try {
        await this.blobs.head(blobKeys.data(digest));
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
      await this.access.grant(ns, digest);
      await awaitNoReclamation(this.meta, [digest]);
      return true;
    }
    return false;
  }

  /** Revokes N's ownership; refused while a live manifest of N uses the blob. Bytes are reclaimed later. */
  async delete(ns: Namespace, digest: Digest): Promise<void> {
    if (!(await this.access.hasAnyKey(ns, digest))) throw unknown(digest);
    if (await this.access.referencedByLiveManifest(ns, digest, false)) {
      throw new OciError('DENIED', `blob ${digest} is referenced by a manifest in '${ns}'; delete the manifest first`, { status: 405 });
    }
    await this.access.revoke(ns, digest);
  }
}

function unknown(digest: Digest): OciError {
  return new OciError('BLOB_UNKNOWN', `blob ${digest} unknown to this repository`);
}
