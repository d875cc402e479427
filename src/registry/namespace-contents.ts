import type { Digest } from '../oci/digest.ts';
import type { Namespace } from '../oci/name.ts';
import type { Tag } from '../oci/tag.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { listAll } from './json-record.ts';
import { revisionKeys } from './keys.ts';
import type { Tags } from './tags.ts';

/** Whole-namespace reads for the extension API: every revision and every live tag, not one page of them. */
export class NamespaceContents {
  private readonly meta: ObjectStore;
  private readonly tags: Tags;

  constructor(meta: ObjectStore, tags: Tags) {
    this.meta = meta;
    this.tags = tags;
  }

  /** Digests with a revision record in the namespace, ascending. */
  async revisions(ns: Namespace): Promise<Digest[]> {
    const digests: Digest[] = [];
    for (const key of await listAll(this.meta, revisionKeys.namespace(ns))) {
      const digest = revisionKeys.parse(ns, key);
      if (digest) digests.push(digest);
    }
    return digests.sort(byCodeUnit);
  }

  /**
   * Live tags, ascending, with the digest each resolves to. `revisions` are the namespace's revision digests:
   * a tag whose winner has no revision record reads as absent (chapter 04 §1.6), and checking against the
   * listing the caller already holds saves one read per tag.
   */
  async liveTags(ns: Namespace, revisions: ReadonlySet<Digest>): Promise<Map<Tag, Digest>> {
    const live = new Map<Tag, Digest>();
    for await (const { tag, winner } of this.tags.winners(ns)) {
      if (winner.action === 'set' && revisions.has(winner.digest)) live.set(tag, winner.digest);
    }
    return live;
  }
}

/** Byte-wise order for ASCII strings such as digests, tags and namespaces. */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
