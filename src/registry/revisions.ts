import type { Digest } from '../oci/digest.ts';
import type { MediaType } from '../oci/media-type.ts';
import type { Namespace } from '../oci/name.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { readJson } from './json-record.ts';
import { revisionKeys } from './keys.ts';
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
 * misses) are reused while the store's change stamp for that prefix holds.
 */
export class Revisions {
  private readonly store: ObjectStore;
  private readonly lookups: PrefixMemo<Map<Digest, RevisionRecord | undefined>>;
  private readonly holding: PrefixMemo<boolean>;

  constructor(store: ObjectStore) {
    this.store = store;
    this.lookups = new PrefixMemo(store, NAMESPACES);
    this.holding = new PrefixMemo(store, NAMESPACES);
  }

  async get(ns: Namespace, digest: Digest): Promise<RevisionRecord | undefined> {
    return (await this.reader(ns))(digest);
  }

  /** Lookups in one namespace against a single stamp check: for listings that test many digests. */
  async reader(ns: Namespace): Promise<(digest: Digest) => Promise<RevisionRecord | undefined>> {
    const known = await this.lookups.get(revisionKeys.namespace(ns), async () => new Map());
    return async (digest) => {
      if (known.has(digest)) return known.get(digest);
      const record = await readJson<RevisionRecord>(this.store, revisionKeys.revision(ns, digest));
      if (known.size >= LOOKUPS_PER_NAMESPACE) known.clear();
      known.set(digest, record);
      return record;
    };
  }

  put(ns: Namespace, digest: Digest, record: RevisionRecord): Promise<void> {
    return this.store.put(revisionKeys.revision(ns, digest), JSON.stringify(record));
  }

  delete(ns: Namespace, digest: Digest): Promise<void> {
    return this.store.delete(revisionKeys.revision(ns, digest));
  }

  any(ns: Namespace): Promise<boolean> {
    return this.holding.get(revisionKeys.namespace(ns), async () => {
      const page = await this.store.list(revisionKeys.namespace(ns), { limit: 1 });
      return page.keys.length > 0;
    });
  }
}
