import type { Namespace } from '../oci/name.ts';
import type { Listings } from './listings.ts';
import type { ReadView } from './metadata/read-view.ts';
import { byCodeUnit, type NamespaceContents } from './namespace-contents.ts';
import type { UploadListing } from './upload-listing.ts';

const PAGE = 1000;

/** One namespace as `namespaces/list` shows it (docs/api.md, "Extension API"). */
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
 * since an upload-only namespace never gets a catalog key (docs/storage.md, "Catalog").
 */
export class Inventory {
  private readonly view: ReadView;
  private readonly listings: Listings;
  private readonly contents: NamespaceContents;
  private readonly uploads: UploadListing;

  constructor(cached: ReadView, listings: Listings, contents: NamespaceContents, uploads: UploadListing) {
    this.view = cached;
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

  /**
   * `root` and the namespaces below it that have a catalog key. In byte order they all sort after `root` and
   * before the first name past `root/` that is not below it (names like `root-x` sort in between and are skipped).
   */
  private async catalogued(root: Namespace): Promise<Namespace[]> {
    const found: Namespace[] = [];
    const below = `${root}/`;
    let from: Namespace | undefined = root;
    while (from !== undefined) {
      const page = await this.view.cataloguedPage(from, PAGE);
      for (const ns of page) {
        if (ns === root || ns.startsWith(below)) {
          if (ns !== found.at(-1)) found.push(ns);
        } else if (ns > below) return found;
      }
      from = page.length < PAGE ? undefined : page[page.length - 1];
    }
    return found;
  }
}
