import type { Digest } from '../../oci/digest.ts';
import type { Descriptor } from '../../oci/manifest.ts';
import type { Namespace } from '../../oci/name.ts';
import type { Tag } from '../../oci/tag.ts';
import type { ObjectStore } from '../../storage/object-store.ts';
import { accessKeys, catalogKeys, refKeys, referrerKeys, revisionKeys, tagKeys, type AccessEntryName, type AccessTarget, type Link, type TagEvent } from '../keys.ts';
import { linkKeys, type LinkCache } from './link-cache.ts';
import type { RevisionRecord, TagEventBody } from './records.ts';

/**
 * Every write to the metadata store, each followed by the invalidation of what it changed in the read layer, so
 * no writer (a request, the collector, retention, a cache fill, replication) can forget it. On a filesystem there
 * is nothing to drop: the store's change stamps move with the write. With the S3 link cache, the entries a write
 * affects are replaced by what was written when that is exactly known, and dropped otherwise.
 */
export class MetadataWrites {
  readonly #meta: ObjectStore;
  readonly #links: LinkCache | undefined;
  /** Namespaces whose catalog key this process already wrote. */
  readonly #catalogued = new Set<Namespace>();

  constructor(meta: ObjectStore, links: LinkCache | undefined) {
    this.#meta = meta;
    this.#links = links;
  }

  /** A reference key: why `ns` may read `digest` (reference keys are never cached). */
  reference(ns: Namespace, digest: Digest, link: Link): Promise<void> {
    return this.#meta.put(refKeys.key(digest, ns, link), '');
  }

  /** Removes `ns`'s ownership grant of `digest`, the only reference key a request ever deletes. */
  revoke(ns: Namespace, digest: Digest): Promise<void> {
    return this.#meta.delete(refKeys.key(digest, ns, { kind: 'own' }));
  }

  /** Removes a reference key that no longer means anything: maintenance only (scrub, the collector). */
  dropReference(ns: Namespace, digest: Digest, link: Link): Promise<void> {
    return this.#meta.delete(refKeys.key(digest, ns, link));
  }

  /**
   * Removes a key listed under a namespace's tag-event or pull-history prefix whose name is no tag (scrub `--tags`):
   * every read skips such keys, so nothing cached holds them and there is no typed name to build the key from.
   */
  deleteStrayTagKey(key: string): Promise<void> {
    return this.#meta.delete(key);
  }

  /**
   * Appends a tag event, then drops the tag's cached winner rather than caching the event: with author timestamps
   * from replication, or another replica's newer event, the appended event need not be the winner.
   */
  async appendTagEvent(ns: Namespace, tag: Tag, event: TagEvent, body: TagEventBody): Promise<void> {
    await this.#meta.put(tagKeys.event(ns, tag, event), JSON.stringify(body));
    await Promise.all([this.#links?.forget(linkKeys.tag(ns, tag)), this.#links?.forget(linkKeys.liveTags(ns))]);
  }

  /** Writes a revision record and caches it as written (servers racing to write one record differ only in `created_at`). */
  async putRevision(ns: Namespace, digest: Digest, record: RevisionRecord): Promise<void> {
    await this.#meta.put(revisionKeys.revision(ns, digest), JSON.stringify(record));
    await Promise.all([
      this.#links?.write(linkKeys.revision(ns, digest), record),
      this.#links?.write(linkKeys.holding(ns), true),
      this.#links?.forget(linkKeys.liveTags(ns)),
    ]);
  }

  async deleteRevision(ns: Namespace, digest: Digest): Promise<void> {
    await this.#meta.delete(revisionKeys.revision(ns, digest));
    await Promise.all([this.#links?.forget(linkKeys.revision(ns, digest)), this.#links?.forget(linkKeys.holding(ns)), this.#links?.forget(linkKeys.liveTags(ns))]);
  }

  /** Writes a referrer record, then drops the subject's cached list (rebuilding it would mean listing every record). */
  async putReferrer(ns: Namespace, subject: Digest, referrer: Digest, descriptor: Descriptor): Promise<void> {
    await this.#meta.put(referrerKeys.record(ns, subject, referrer), JSON.stringify(descriptor));
    await this.#links?.forget(linkKeys.referrers(ns, subject));
  }

  async deleteReferrer(ns: Namespace, subject: Digest, referrer: Digest): Promise<void> {
    await this.#meta.delete(referrerKeys.record(ns, subject, referrer));
    await this.#links?.forget(linkKeys.referrers(ns, subject));
  }

  /**
   * One recorded pull (docs/storage.md, "Pull history"). Access entries are never cached: nothing to invalidate.
   * The same client in the same millisecond names the same key, so a repeat rewrites equivalent content.
   */
  recordPull(ns: Namespace, target: AccessTarget, name: AccessEntryName, body: { client: string; at: string }): Promise<void> {
    return this.#meta.put(accessKeys.entry(ns, target, name), JSON.stringify(body));
  }

  /** Removes a superseded access entry (scrub's pull-history collection). */
  deleteAccessEntry(ns: Namespace, target: AccessTarget, name: AccessEntryName): Promise<void> {
    return this.#meta.delete(accessKeys.entry(ns, target, name));
  }

  /** Writes the catalog key even when this process wrote it before: scrub restores one removed out of band. */
  async restoreCatalog(ns: Namespace): Promise<void> {
    await this.#meta.put(catalogKeys.entry(ns), '');
    this.#catalogued.add(ns);
  }

  /** The namespace's catalog key, written once per namespace per process (it is never removed by a request). */
  async catalog(ns: Namespace): Promise<void> {
    if (this.#catalogued.has(ns)) return;
    await this.#meta.put(catalogKeys.entry(ns), '');
    this.#catalogued.add(ns);
  }
}
