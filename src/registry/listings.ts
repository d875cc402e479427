import { isNamespace, type Namespace } from '../oci/name.ts';
import { isTag, type Tag } from '../oci/tag.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { catalogKeys } from './keys.ts';
import type { Revisions } from './revisions.ts';
import type { Tags } from './tags.ts';

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
    let after = last !== undefined && isTag(last) ? last : undefined;
    for (;;) {
      const batch = await this.tags.names(ns, after, Math.max(n + 1, 100));
      for (const tag of batch.tags) {
        if (last !== undefined && tag <= last) continue;
        if (!(await this.isLive(ns, tag))) continue;
        if (items.length === n) return { items, more: true };
        items.push(tag);
      }
      if (!batch.more || batch.tags.length === 0) return { items, more: false };
      after = batch.tags[batch.tags.length - 1];
    }
  }

  /** A namespace holds content when it has a revision or a live tag. */
  async holdsContent(ns: Namespace): Promise<boolean> {
    if (await this.revisions.any(ns)) return true;
    return (await this.tagPage(ns, 1, undefined)).items.length > 0;
  }

  async catalogPage(n: number, last: string | undefined): Promise<Page<Namespace>> {
    const items: Namespace[] = [];
    if (n === 0) return { items, more: false };
    let startAfter = last !== undefined && isNamespace(last) ? catalogKeys.entry(last) : undefined;
    for (;;) {
      const page = await this.meta.list(catalogKeys.root, { limit: Math.max(n + 1, 100), ...(startAfter ? { startAfter } : {}) });
      for (const key of page.keys) {
        const ns = catalogKeys.parse(key);
        if (!ns || (last !== undefined && ns <= last) || !(await this.holdsContent(ns))) continue;
        if (items.length === n) return { items, more: true };
        items.push(ns);
      }
      if (page.next === undefined) return { items, more: false };
      startAfter = page.next;
    }
  }

  private async isLive(ns: Namespace, tag: Tag): Promise<boolean> {
    const target = await this.tags.resolve(ns, tag);
    return target !== undefined && (await this.revisions.get(ns, target.digest)) !== undefined;
  }
}
