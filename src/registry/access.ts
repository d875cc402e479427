import type { Digest } from '../oci/digest.ts';
import type { Namespace } from '../oci/name.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { RegistryError } from './errors.ts';
import { awaitNoReclamation } from './gc-fence.ts';
import { exists, listAll } from './json-record.ts';
import { blobKeys, refKeys, referrerKeys, type Link } from './keys.ts';
import type { ReadView } from './metadata/read-view.ts';
import type { MetadataWrites } from './metadata/writes.ts';
import { targetOf } from './metadata/records.ts';

/**
 * The read rule (docs/storage.md, "Who may read a blob"): namespace N may read digest D iff N owns D, or a non-own
 * reference key of N on D is backed by live metadata. Reference keys only ever over-approximate; the backing check
 * makes them exact. Backing checks use the fresh view: a cached answer could grant what a delete just took away.
 */
export class Access {
  readonly #meta: ObjectStore;
  readonly #blobs: ObjectStore;
  readonly #fresh: ReadView;
  readonly #writes: MetadataWrites;

  constructor(meta: ObjectStore, blobs: ObjectStore, fresh: ReadView, writes: MetadataWrites) {
    this.#meta = meta;
    this.#blobs = blobs;
    this.#fresh = fresh;
    this.#writes = writes;
  }

  async canRead(ns: Namespace, digest: Digest): Promise<boolean> {
    if (await this.owns(ns, digest)) return true;
    return this.referencedByLiveManifest(ns, digest, true);
  }

  owns(ns: Namespace, digest: Digest): Promise<boolean> {
    return exists(this.#meta, refKeys.key(digest, ns, { kind: 'own' }));
  }

  /** True when some backed reference of N holds D; `includeSelf` also counts D's own revision/tag/subject keys. */
  async referencedByLiveManifest(ns: Namespace, digest: Digest, includeSelf: boolean): Promise<boolean> {
    for (const key of await listAll(this.#meta, refKeys.links(digest, ns))) {
      const parsed = refKeys.parse(digest, key);
      if (!parsed || parsed.ns !== ns) continue;
      if (!includeSelf && parsed.link.kind !== 'manifest') continue;
      if (await this.isBacked(ns, digest, parsed.link)) return true;
    }
    return false;
  }

  /** Whether N has any reference key (backed or not) or a grant on D. */
  async hasAnyKey(ns: Namespace, digest: Digest): Promise<boolean> {
    if (await this.owns(ns, digest)) return true;
    const page = await this.#meta.list(refKeys.links(digest, ns), { limit: 1 });
    return page.keys.length > 0;
  }

  /** Whether live metadata backs one reference key of N on D (an `own` key backs itself). Always fresh. */
  async isBacked(ns: Namespace, digest: Digest, link: Link): Promise<boolean> {
    switch (link.kind) {
      case 'own':
        return true;
      case 'rev':
        return (await (await this.#fresh.revisions(ns))(digest)) !== undefined;
      case 'tag':
        return targetOf(await this.#fresh.tagWinner(ns, link.tag))?.digest === digest;
      case 'sub':
        return exists(this.#meta, referrerKeys.record(ns, link.subject, digest));
      case 'manifest':
        return (await (await this.#fresh.revisions(ns))(link.manifest)) !== undefined;
    }
  }

  /** Grants N bytes it has just stored itself (a promoted upload): nothing can have reclaimed them. */
  grant(ns: Namespace, digest: Digest): Promise<void> {
    return this.#writes.reference(ns, digest, { kind: 'own' });
  }

  /**
   * Grants N bytes that already exist (an upload of known content, a mount, a cache fill): grant, then the
   * collector fence, then a re-probe of the bytes (docs/storage.md, "Garbage collection"). Resolves false when
   * the bytes were reclaimed meanwhile, so the caller stores its own copy or gives up; a collector still holding
   * the digest after the fence's retries is `reclamation-in-progress`.
   */
  async grantExisting(ns: Namespace, digest: Digest): Promise<boolean> {
    await this.#writes.reference(ns, digest, { kind: 'own' });
    // Having waited, the grant may have gone with reclaimed bytes (and new bytes arrived since): grant again.
    for (let round = 1; await awaitNoReclamation(this.#meta, [digest]); round++) {
      if (round === 3) throw new RegistryError('reclamation-in-progress', `blob ${digest} is being reclaimed; retry`);
      await this.#writes.reference(ns, digest, { kind: 'own' });
    }
    return exists(this.#blobs, blobKeys.data(digest));
  }

  revoke(ns: Namespace, digest: Digest): Promise<void> {
    return this.#writes.revoke(ns, digest);
  }

  link(ns: Namespace, digest: Digest, link: Link): Promise<void> {
    return this.#writes.reference(ns, digest, link);
  }

  /** Namespaces holding any key on D (owning or referencing), ascending, at most `limit`. */
  async holders(digest: Digest, limit: number): Promise<Namespace[]> {
    const found = new Set<Namespace>();
    for (const key of await listAll(this.#meta, refKeys.digest(digest))) {
      const parsed = refKeys.parse(digest, key);
      if (parsed) found.add(parsed.ns);
    }
    return [...found].sort().slice(0, limit);
  }
}

/** The failure of a write whose guarded grant found the bytes reclaimed and has none of its own to store. */
export function reclaimedMeanwhile(digest: Digest): RegistryError {
  return new RegistryError('reclamation-in-progress', `blob ${digest} was reclaimed while being granted; retry`);
}
