import { isNamespace, type Namespace } from '../oci/name.ts';
import { isTag, type Tag } from '../oci/tag.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { catalogKeys, revisionKeys, tagKeys } from './keys.ts';
import { mapLimited } from './map-limited.ts';
import { PrefixMemo, TreeMemo } from './memo.ts';
import type { Revisions } from './revisions.ts';
import type { Tags, TagWinner } from './tags.ts';

export interface Page<T> {
  items: T[];
  /** True when more items follow the page. */
  more: boolean;
}

/** Tags list and catalog (chapter 01 §7): byte-wise ascending, strictly after `last`, at most `n`. */
export class Listings {
  private readonly meta: ObjectStore;
  private readonly tags: Tags;
  private readonly revisions: Revisions;
  private readonly liveTags: PrefixMemo<Tag[]>;
  private readonly catalogued: TreeMemo<Namespace[]>;

  constructor(meta: ObjectStore, tags: Tags, revisions: Revisions) {
    this.meta = meta;
    this.tags = tags;
    this.revisions = revisions;
    this.liveTags = new PrefixMemo(meta, 256);
    this.catalogued = new TreeMemo(meta);
  }

  /** Live tags: the winner is a `set` whose revision still exists. */
  async tagPage(ns: Namespace, n: number, last: string | undefined): Promise<Page<Tag>> {
    if (n === 0) return { items: [], more: false };
    if (this.liveTags.active) return pageOf(await this.allLiveTags(ns), n, last);
    const items: Tag[] = [];
    // A cursor that is not a tag cannot be a storage bound; list from the start and compare instead.
    const after = last !== undefined && isTag(last) ? last : undefined;
    const isLive = await this.liveness(ns);
    let batch: TagWinner[] = [];
    const flush = async (): Promise<boolean> => {
      const live = await inParallel(batch, isLive);
      for (const [index, { tag }] of batch.entries()) {
        if (!live[index]) continue;
        if (items.length === n) return true;
        items.push(tag);
      }
      batch = [];
      return false;
    };
    for await (const candidate of this.tags.winners(ns, after)) {
      if (last !== undefined && candidate.tag <= last) continue;
      batch.push(candidate);
      if (batch.length > n - items.length && (await flush())) return { items, more: true };
    }
    return { items, more: await flush() };
  }

  /** Every live tag of the namespace, reused while neither its tag events nor its revision records change. */
  private allLiveTags(ns: Namespace): Promise<Tag[]> {
    return this.liveTags.get([tagKeys.namespace(ns), revisionKeys.namespace(ns)], async () => {
      const candidates: TagWinner[] = [];
      for await (const candidate of this.tags.winners(ns)) candidates.push(candidate);
      const live = await inParallel(candidates, await this.liveness(ns));
      return candidates.filter((_, index) => live[index]).map(({ tag }) => tag);
    });
  }

  private async liveness(ns: Namespace): Promise<(candidate: TagWinner) => Promise<boolean>> {
    const revision = await this.revisions.reader(ns);
    return async ({ winner }) => winner.action === 'set' && (await revision(winner.digest)) !== undefined;
  }

  /** A namespace holds content when it has a revision or a live tag; a live tag needs its revision, so: a revision. */
  holdsContent(ns: Namespace): Promise<boolean> {
    return this.revisions.any(ns);
  }

  async catalogPage(n: number, last: string | undefined): Promise<Page<Namespace>> {
    const items: Namespace[] = [];
    if (n === 0) return { items, more: false };
    if (this.catalogued.active) return this.catalogPageFromTree(n, last);
    let startAfter = last !== undefined && isNamespace(last) ? catalogKeys.entry(last) : undefined;
    for (;;) {
      const page = await this.meta.list(catalogKeys.root, { limit: Math.max(n + 1, 100), ...(startAfter ? { startAfter } : {}) });
      const candidates = page.keys
        .map((key) => catalogKeys.parse(key))
        .filter((ns): ns is Namespace => ns !== undefined && (last === undefined || ns > last));
      const holding = await this.revisions.anyOf(candidates, LOOKUP_CONCURRENCY);
      for (const [index, ns] of candidates.entries()) {
        if (!holding[index]) continue;
        if (items.length === n) return { items, more: true };
        items.push(ns);
      }
      if (page.next === undefined) return { items, more: false };
      startAfter = page.next;
    }
  }

  /**
   * The catalog from every catalogued namespace, listed once and reused while no catalog directory changes
   * (stamp-capable stores); namespaces are then checked for content a page at a time.
   */
  private async catalogPageFromTree(n: number, last: string | undefined): Promise<Page<Namespace>> {
    const all = await this.catalogued.get((visit) => this.listCatalogued(visit));
    const items: Namespace[] = [];
    for (let start = indexAfter(all, last); start < all.length; start += n + 1) {
      const candidates = all.slice(start, start + n + 1);
      const holding = await this.revisions.anyOf(candidates, LOOKUP_CONCURRENCY);
      for (const [index, ns] of candidates.entries()) {
        if (!holding[index]) continue;
        if (items.length === n) return { items, more: true };
        items.push(ns);
      }
    }
    return { items, more: false };
  }

  /** Every namespace with a catalog key, ascending, from a walk of the catalog's directories. */
  private async listCatalogued(visit: (prefix: string) => Promise<void>): Promise<Namespace[]> {
    const found: Namespace[] = [];
    const walk = async (prefix: string): Promise<void> => {
      await visit(prefix);
      let startAfter: string | undefined;
      do {
        const page = await this.meta.listChildren(prefix, startAfter !== undefined ? { startAfter } : {});
        for (const child of page.children) {
          const key = `${prefix}/${child.name}`;
          if (child.isPrefix) await walk(key);
          else {
            const ns = catalogKeys.parse(key);
            if (ns !== undefined) found.push(ns);
          }
        }
        startAfter = page.next;
      } while (startAfter !== undefined);
    };
    await walk(catalogKeys.root);
    return found.sort();
  }
}

/** The page of `n` tags strictly after `last` from an ascending list. */
function pageOf(tags: readonly Tag[], n: number, last: string | undefined): Page<Tag> {
  const low = indexAfter(tags, last);
  return { items: tags.slice(low, low + n), more: low + n < tags.length };
}

/** Index of the first item of an ascending list that sorts after `last`. */
function indexAfter(sorted: readonly string[], last: string | undefined): number {
  let low = 0;
  let high = sorted.length;
  while (last !== undefined && low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! <= last) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Storage round trips per listing page run this many at a time instead of one after another. */
const LOOKUP_CONCURRENCY = 16;

function inParallel<T>(items: readonly T[], check: (item: T) => Promise<boolean>): Promise<boolean[]> {
  return mapLimited(items, LOOKUP_CONCURRENCY, check);
}
