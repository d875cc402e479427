import { isNamespace, type Namespace } from '../oci/name.ts';
import { isTag, type Tag } from '../oci/tag.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { catalogKeys } from './keys.ts';
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

  constructor(meta: ObjectStore, tags: Tags, revisions: Revisions) {
    this.meta = meta;
    this.tags = tags;
    this.revisions = revisions;
  }

  /** Live tags: the winner is a `set` whose revision still exists. */
  async tagPage(ns: Namespace, n: number, last: string | undefined): Promise<Page<Tag>> {
    const items: Tag[] = [];
    if (n === 0) return { items, more: false };
    // A cursor that is not a tag cannot be a storage bound; list from the start and compare instead.
    const after = last !== undefined && isTag(last) ? last : undefined;
    const revision = await this.revisions.reader(ns);
    let batch: TagWinner[] = [];
    const flush = async (): Promise<boolean> => {
      const live = await inParallel(batch, async ({ winner }) => winner.action === 'set' && (await revision(winner.digest)) !== undefined);
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

  /** A namespace holds content when it has a revision or a live tag; a live tag needs its revision, so: a revision. */
  holdsContent(ns: Namespace): Promise<boolean> {
    return this.revisions.any(ns);
  }

  async catalogPage(n: number, last: string | undefined): Promise<Page<Namespace>> {
    const items: Namespace[] = [];
    if (n === 0) return { items, more: false };
    let startAfter = last !== undefined && isNamespace(last) ? catalogKeys.entry(last) : undefined;
    for (;;) {
      const page = await this.meta.list(catalogKeys.root, { limit: Math.max(n + 1, 100), ...(startAfter ? { startAfter } : {}) });
      const candidates = page.keys
        .map((key) => catalogKeys.parse(key))
        .filter((ns): ns is Namespace => ns !== undefined && (last === undefined || ns > last));
      const holding = await inParallel(candidates, (ns) => this.holdsContent(ns));
      for (const [index, ns] of candidates.entries()) {
        if (!holding[index]) continue;
        if (items.length === n) return { items, more: true };
        items.push(ns);
      }
      if (page.next === undefined) return { items, more: false };
      startAfter = page.next;
    }
  }
}

/** Storage round trips per listing page run this many at a time instead of one after another. */
const LOOKUP_CONCURRENCY = 16;

async function inParallel<T>(items: readonly T[], check: (item: T) => Promise<boolean>): Promise<boolean[]> {
  const results = new Array<boolean>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await check(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOOKUP_CONCURRENCY, items.length) }, worker));
  return results;
}
