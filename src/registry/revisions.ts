import type { Digest } from '../oci/digest.ts';
import type { MediaType } from '../oci/media-type.ts';
import type { Namespace } from '../oci/name.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { readJson } from './json-record.ts';
import { revisionKeys } from './keys.ts';

/** A revision record: the manifest `digest` resolves in its namespace. Written once per push, deleted by digest delete. */
export interface RevisionRecord {
  media_type: MediaType;
  size: number;
  /** RFC 3339. */
  created_at: string;
}

export class Revisions {
  private readonly store: ObjectStore;

  constructor(store: ObjectStore) {
    this.store = store;
  }

  get(ns: Namespace, digest: Digest): Promise<RevisionRecord | undefined> {
    return readJson<RevisionRecord>(this.store, revisionKeys.revision(ns, digest));
  }

  put(ns: Namespace, digest: Digest, record: RevisionRecord): Promise<void> {
    return this.store.put(revisionKeys.revision(ns, digest), JSON.stringify(record));
  }

  delete(ns: Namespace, digest: Digest): Promise<void> {
    return this.store.delete(revisionKeys.revision(ns, digest));
  }

  async any(ns: Namespace): Promise<boolean> {
    const page = await this.store.list(revisionKeys.namespace(ns), { limit: 1 });
    return page.keys.length > 0;
  }
}
