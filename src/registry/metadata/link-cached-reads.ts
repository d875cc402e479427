import type { Digest } from '../../oci/digest.ts';
import type { Descriptor } from '../../oci/manifest.ts';
import type { Namespace } from '../../oci/name.ts';
import type { Tag } from '../../oci/tag.ts';
import type { TagEvent } from '../keys.ts';
import { linkKeys, type LinkCache } from './link-cache.ts';
import { LOOKUP_CONCURRENCY, mapLimited } from '../map-limited.ts';
import { liveTagsOf } from './live-tags.ts';
import type { ReadView, RevisionLookup } from './read-view.ts';
import type { TagWinner } from './records.ts';
import { FEW_TAGS, type StoreReads } from './store-reads.ts';

/** The cached head of a namespace's live tags: all of them when `complete`. */
interface LiveTagsHead {
  tags: Tag[];
  complete: boolean;
}

/**
 * Most JSON bytes of live tags kept per namespace: with the in-memory cache's 10,000 entries, the tag lists it can
 * hold stay under 80 MiB whatever the tags' lengths.
 */
const LIVE_TAGS_BYTES = 8192;
/** Live tags read per storage listing while filling the head. */
const LIVE_TAGS_PAGE = 1000;

/** Index of the first tag greater than `after` in an ascending list (tags are ASCII: code-unit order is byte order). */
function firstAfter(tags: readonly Tag[], after: string): number {
  let low = 0;
  let high = tags.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (tags[middle]! <= after) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * The read views of a store that cannot stamp prefixes (S3) when the link cache is on (docs/storage.md, "S3 link
 * cache"): tag winners, revision records, whether a namespace holds any, referrer lists and the head of the live
 * tags. The cached view answers from the cache when it can; the fresh view always reads storage and refreshes the
 * entry it read. Other whole-namespace listings are never cached.
 */
export class LinkCachedReads implements ReadView {
  readonly #store: StoreReads;
  readonly #links: LinkCache;
  readonly #fresh: boolean;

  constructor(store: StoreReads, links: LinkCache, view: 'cached' | 'fresh') {
    this.#store = store;
    this.#links = links;
    this.#fresh = view === 'fresh';
  }

  tagWinner(ns: Namespace, tag: Tag): Promise<TagEvent | undefined> {
    return this.#through(linkKeys.tag(ns, tag), () => this.#store.tagWinner(ns, tag));
  }

  /** Through the cache one by one for a few tags; many are read in one listing that bypasses it. */
  async tagWinnersOf(ns: Namespace, tags: readonly Tag[]): Promise<Map<Tag, TagEvent | undefined>> {
    if (tags.length > FEW_TAGS) return this.#store.tagWinnersOf(ns, tags);
    const found = new Map<Tag, TagEvent | undefined>();
    for (const tag of tags) found.set(tag, await this.tagWinner(ns, tag));
    return found;
  }

  tagWinners(ns: Namespace, after?: Tag): AsyncIterable<TagWinner> {
    return this.#store.tagWinners(ns, after);
  }

  /**
   * The cached view keeps the namespace's first live tags, up to `LIVE_TAGS_BYTES` of them, as one entry: a tags
   * list page inside them costs no storage call. Pages past them, and the fresh view, list storage.
   */
  async liveTags(ns: Namespace, after: string | undefined, limit: number): Promise<Tag[]> {
    if (this.#fresh) return liveTagsOf(this, ns, after, limit);
    const head = await this.#links.read(linkKeys.liveTags(ns), () => this.#liveTagsHead(ns));
    if (head !== undefined) {
      const start = after === undefined ? 0 : firstAfter(head.tags, after);
      if (head.complete || start + limit <= head.tags.length) return head.tags.slice(start, start + limit);
    }
    return liveTagsOf(this, ns, after, limit);
  }

  async #liveTagsHead(ns: Namespace): Promise<LiveTagsHead> {
    const tags: Tag[] = [];
    let bytes = 2;
    let after: Tag | undefined;
    for (;;) {
      const page = await liveTagsOf(this, ns, after, LIVE_TAGS_PAGE);
      for (const tag of page) {
        bytes += tag.length + 3;
        if (bytes > LIVE_TAGS_BYTES) return { tags, complete: false };
        tags.push(tag);
      }
      if (page.length < LIVE_TAGS_PAGE) return { tags, complete: true };
      after = page.at(-1);
    }
  }

  revisionDigests(ns: Namespace): Promise<Digest[]> {
    return this.#store.revisionDigests(ns);
  }

  async revisions(ns: Namespace): Promise<RevisionLookup> {
    return (digest) => this.#through(linkKeys.revision(ns, digest), () => this.#store.revision(ns, digest));
  }

  holdsRevisions(namespaces: readonly Namespace[]): Promise<boolean[]> {
    return mapLimited(namespaces, LOOKUP_CONCURRENCY, async (ns) => (await this.#through(linkKeys.holding(ns), () => this.#store.holdsRevision(ns))) ?? false);
  }

  async referrers(ns: Namespace, subject: Digest): Promise<Descriptor[]> {
    return (await this.#through(linkKeys.referrers(ns, subject), () => this.#store.referrers(ns, subject))) ?? [];
  }

  cataloguedPage(from: Namespace | undefined, limit: number): Promise<Namespace[]> {
    return this.#store.cataloguedPage(from, limit);
  }

  manifestBody(digest: Digest): Promise<Buffer> {
    return this.#store.manifestBody(digest);
  }

  #through<V>(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    return this.#fresh ? this.#links.refresh(key, load) : this.#links.read(key, load);
  }
}
