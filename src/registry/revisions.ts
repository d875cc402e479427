import type { Digest } from '../oci/digest.ts';
import type { MediaType } from '../oci/media-type.ts';
import type { Namespace } from '../oci/name.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { readJson } from './json-record.ts';
import { revisionKeys } from './keys.ts';
import { linkKeys, type LinkCache } from './link-cache.ts';
import { PrefixMemo } from './memo.ts';

/** A revision record: the manifest `digest` resolves in its namespace. Written once per push, deleted by digest delete. */
export interface RevisionRecord {
  media_type: MediaType;
  size: number;
  /** RFC 3339. */
  created_at: string;
}

/** Namespaces whose revision lookups are kept, and the most lookups kept per namespace. */
const NAMESPACES = 1024;
const LOOKUPS_PER_NAMESPACE = 4096;

/**
 * Revision records. Records are immutable and all of a namespace's sit under one prefix, so lookups (hits and
 * misses) are reused while the store's change stamp for that prefix holds. With a link cache (S3), `get`,
 * `reader` and `any` may answer from it, up to its TTL behind another replica's write; `freshGet` never does.
 */
export class Revisions {
  private readonly store: ObjectStore;
  private readonly lookups: PrefixMemo<Map<Digest, RevisionRecord | undefined>>;
  private readonly holding: PrefixMemo<boolean>;
  private readonly links: LinkCache | undefined;

  constructor(store: ObjectStore, links?: LinkCache) {
    this.store = store;
    this.lookups = new PrefixMemo(store, NAMESPACES);
    this.holding = new PrefixMemo(store, NAMESPACES);
    this.links = links;
  }

  async get(ns: Namespace, digest: Digest): Promise<RevisionRecord | undefined> {
    return (await this.reader(ns))(digest);
  }

  /** `get` from storage, never from the link cache (whose entry it refreshes). */
  freshGet(ns: Namespace, digest: Digest): Promise<RevisionRecord | undefined> {
    if (!this.links) return this.get(ns, digest);
    return this.links.refresh(linkKeys.revision(ns, digest), () => this.stored(ns, digest));
  }

  /** Lookups in one namespace against a single stamp check: for listings that test many digests. */
  async reader(ns: Namespace): Promise<(digest: Digest) => Promise<RevisionRecord | undefined>> {
    const known = await this.lookups.get(revisionKeys.namespace(ns), async () => new Map());
    const links = this.links;
    const lookup = links ? (digest: Digest) => links.read(linkKeys.revision(ns, digest), () => this.stored(ns, digest)) : (digest: Digest) => this.stored(ns, digest);
    return async (digest) => {
      if (known.has(digest)) return known.get(digest);
      const record = await lookup(digest);
      if (known.size >= LOOKUPS_PER_NAMESPACE) known.clear();
      known.set(digest, record);
      return record;
    };
  }

  /** Writes the record and caches it as written (servers racing to write one record differ only in `created_at`). */
  async put(ns: Namespace, digest: Digest, record: RevisionRecord): Promise<void> {
    await this.store.put(revisionKeys.revision(ns, digest), JSON.stringify(record));
    await Promise.all([this.links?.write(linkKeys.revision(ns, digest), record), this.links?.write(linkKeys.holding(ns), true)]);
  }

  async delete(ns: Namespace, digest: Digest): Promise<void> {
    await this.store.delete(revisionKeys.revision(ns, digest));
    await Promise.all([this.links?.forget(linkKeys.revision(ns, digest)), this.links?.forget(linkKeys.holding(ns))]);
  }

  /** Whether the namespace holds any revision record (the catalog's content check). */
  async any(ns: Namespace): Promise<boolean> {
    const stored = () => this.holding.get(revisionKeys.namespace(ns), () => this.holdsRecords(ns));
    return (await (this.links ? this.links.read(linkKeys.holding(ns), stored) : stored())) ?? false;
  }

  /** `any` for each namespace of a catalog page: one stamp check for all, storage reads only where one moved. */
  anyOf(namespaces: readonly Namespace[], concurrency: number): Promise<boolean[]> {
    // A link cache is only used where the store has no stamps, so then every namespace goes through it.
    const check = this.links ? (ns: Namespace) => this.any(ns) : (ns: Namespace) => this.holdsRecords(ns);
    const prefixes = namespaces.map((ns) => revisionKeys.namespace(ns));
    return this.holding.getMany(prefixes, (index) => check(namespaces[index]!), concurrency);
  }

  private async holdsRecords(ns: Namespace): Promise<boolean> {
    const page = await this.store.list(revisionKeys.namespace(ns), { limit: 1 });
    return page.keys.length > 0;
  }

  private stored(ns: Namespace, digest: Digest): Promise<RevisionRecord | undefined> {
    return readJson<RevisionRecord>(this.store, revisionKeys.revision(ns, digest));
  }
}
