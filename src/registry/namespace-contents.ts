import type { Digest } from '../oci/digest.ts';
import type { Namespace } from '../oci/name.ts';
import type { Tag } from '../oci/tag.ts';
import type { ReadView } from './metadata/read-view.ts';

/** Whole-namespace reads for the extension API: every revision and every live tag, not one page of them. */
export class NamespaceContents {
  readonly #view: ReadView;

  constructor(cached: ReadView) {
    this.#view = cached;
  }

  /** Digests with a revision record in the namespace, ascending. */
  revisions(ns: Namespace): Promise<Digest[]> {
    return this.#view.revisionDigests(ns);
  }

  /**
   * Live tags, ascending, with the digest each resolves to. `revisions` are the namespace's revision digests:
   * a tag whose winner has no revision record reads as absent, and checking against the listing the caller
   * already holds saves one read per tag.
   */
  async liveTags(ns: Namespace, revisions: ReadonlySet<Digest>): Promise<Map<Tag, Digest>> {
    const live = new Map<Tag, Digest>();
    for await (const { tag, winner } of this.#view.tagWinners(ns)) {
      if (winner.action === 'set' && revisions.has(winner.digest)) live.set(tag, winner.digest);
    }
    return live;
  }
}

/** Byte-wise order for ASCII strings such as digests, tags and namespaces. */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
