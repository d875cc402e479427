import type { Digest } from '../oci/digest.ts';
import type { Namespace } from '../oci/name.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { exists, listAll } from './json-record.ts';
import { refKeys, referrerKeys, type Link } from './keys.ts';
import type { Revisions } from './revisions.ts';
import type { Tags } from './tags.ts';

/**
 * The read rule (chapter 04 §3.1): namespace N may read digest D iff N owns D, or a non-own reference key of N on
 * D is backed by live metadata. Reference keys only ever over-approximate; the backing check makes them exact.
 * Backing checks read storage directly, never a cache: they use the `fresh` reads of tags and revisions.
 */
export class Access {
  private readonly meta: ObjectStore;
  private readonly tags: Tags;
  private readonly revisions: Revisions;

  constructor(meta: ObjectStore, tags: Tags, revisions: Revisions) {
    this.meta = meta;
    this.tags = tags;
    this.revisions = revisions;
  }

  async canRead(ns: Namespace, digest: Digest): Promise<boolean> {
    if (await this.owns(ns, digest)) return true;
    return this.referencedByLiveManifest(ns, digest, true);
  }

  owns(ns: Namespace, digest: Digest): Promise<boolean> {
    return exists(this.meta, refKeys.key(digest, ns, { kind: 'own' }));
  }

  /** True when some backed reference of N holds D; `includeSelf` also counts D's own revision/tag/subject keys. */
  async referencedByLiveManifest(ns: Namespace, digest: Digest, includeSelf: boolean): Promise<boolean> {
    for (const key of await listAll(this.meta, refKeys.links(digest, ns))) {
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
    const page = await this.meta.list(refKeys.links(digest, ns), { limit: 1 });
    return page.keys.length > 0;
  }

  private async isBacked(ns: Namespace, digest: Digest, link: Link): Promise<boolean> {
    switch (link.kind) {
      case 'own':
        return true;
      case 'rev':
        return (await this.revisions.freshGet(ns, digest)) !== undefined;
      case 'tag':
        return (await this.tags.freshResolve(ns, link.tag))?.digest === digest;
      case 'sub':
        return exists(this.meta, referrerKeys.record(ns, link.subject, digest));
      case 'manifest':
        return (await this.revisions.freshGet(ns, link.manifest)) !== undefined;
    }
  }

  grant(ns: Namespace, digest: Digest): Promise<void> {
    return this.meta.put(refKeys.key(digest, ns, { kind: 'own' }), '');
  }

  revoke(ns: Namespace, digest: Digest): Promise<void> {
    return this.meta.delete(refKeys.key(digest, ns, { kind: 'own' }));
  }

  link(ns: Namespace, digest: Digest, link: Link): Promise<void> {
    return this.meta.put(refKeys.key(digest, ns, link), '');
  }

  /** Namespaces holding any key on D (owning or referencing), ascending, at most `limit`. */
  async holders(digest: Digest, limit: number): Promise<Namespace[]> {
    const found: Namespace[] = [];
    for (const key of await listAll(this.meta, refKeys.digest(digest))) {
      const parsed = refKeys.parse(digest, key);
      if (parsed && found[found.length - 1] !== parsed.ns && !found.includes(parsed.ns)) found.push(parsed.ns);
    }
    return found.sort().slice(0, limit);
  }
}
