import type { Namespace } from '../oci/name.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { exists, listAll } from './json-record.ts';
import { catalogKeys } from './keys.ts';
import type { Listings } from './listings.ts';
import { byCodeUnit, type NamespaceContents } from './namespace-contents.ts';
import type { UploadListing } from './upload-listing.ts';

/** One namespace as `namespaces/list` shows it (chapter 01 §10). */
export interface NamespaceSummary {
  name: Namespace;
  /** Live tags. */
  tagCount: number;
  /** Revision records. */
  manifestCount: number;
  /** Open upload sessions. */
  uploadCount: number;
}

/**
 * The namespaces of a repository: `root` itself and every namespace below it that holds content (a revision or
 * a live tag) or has upload sessions. Content is found through the catalog keys, uploads through the blob store,
 * since an upload-only namespace never gets a catalog key (chapter 04 §3.6).
 */
export class Inventory {
  private readonly meta: ObjectStore;
  private readonly listings: Listings;
  private readonly contents: NamespaceContents;
  private readonly uploads: UploadListing;

  constructor(meta: ObjectStore, listings: Listings, contents: NamespaceContents, uploads: UploadListing) {
    this.meta = meta;
    this.listings = listings;
    this.contents = contents;
    this.uploads = uploads;
  }

  /** Ascending. */
  async namespaces(root: Namespace): Promise<Namespace[]> {
    const found = new Set<Namespace>();
    for (const ns of await this.catalogued(root)) {
      // Catalog keys are never removed on deletes, so each one is checked against what the namespace holds now.
      if (await this.listings.holdsContent(ns)) found.add(ns);
    }
    for (const ns of await this.uploads.namespacesWithSessions(root)) found.add(ns);
    return [...found].sort(byCodeUnit);
  }

  /** Ascending by name. */
  async summaries(root: Namespace): Promise<NamespaceSummary[]> {
    const summaries: NamespaceSummary[] = [];
    for (const name of await this.namespaces(root)) {
      const revisions = await this.contents.revisions(name);
      const tags = await this.contents.liveTags(name, new Set(revisions));
      const uploads = await this.uploads.sessionIds(name);
      summaries.push({ name, tagCount: tags.size, manifestCount: revisions.length, uploadCount: uploads.length });
    }
    return summaries;
  }

  /** `root` and the namespaces below it that have a catalog key. */
  private async catalogued(root: Namespace): Promise<Namespace[]> {
    const found: Namespace[] = [];
    if (await exists(this.meta, catalogKeys.entry(root))) found.push(root);
    for (const key of await listAll(this.meta, catalogKeys.below(root))) {
      const ns = catalogKeys.parse(key);
      if (ns) found.push(ns);
    }
    return found;
  }
}
