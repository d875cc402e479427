import { isNamespace, type Namespace } from '../oci/name.ts';
import type { Tag } from '../oci/tag.ts';
import type { ReadView } from './metadata/read-view.ts';

export interface Page<T> {
  items: T[];
  /** True when more items follow the page. */
  more: boolean;
}

/** Tags list and catalog (docs/api.md, "Listings"): byte-wise ascending, strictly after `last`, at most `n`. */
export class Listings {
  readonly #view: ReadView;

  constructor(cached: ReadView) {
    this.#view = cached;
  }

  async tagPage(ns: Namespace, n: number, last: string | undefined): Promise<Page<Tag>> {
    if (n === 0) return EMPTY;
    return pageOf(await this.#view.liveTags(ns, last, n + 1), n);
  }

  /** A namespace holds content when it has a revision or a live tag; a live tag needs its revision, so: a revision. */
  async holdsContent(ns: Namespace): Promise<boolean> {
    return (await this.#view.holdsRevisions([ns]))[0]!;
  }

  /** Catalogued namespaces that hold content; catalog keys are never removed on deletes, so each is checked. */
  async catalogPage(n: number, last: string | undefined): Promise<Page<Namespace>> {
    if (n === 0) return EMPTY;
    const items: Namespace[] = [];
    // A cursor that is not a name cannot bound a listing: start at the beginning and compare.
    let from = last !== undefined && isNamespace(last) ? last : undefined;
    let after = last;
    while (items.length <= n) {
      // One more than needed, as `from` is inclusive and may be the one already seen.
      const size = n + 2 - items.length;
      const page = await this.#view.cataloguedPage(from, size);
      const candidates = page.filter((ns) => after === undefined || ns > after);
      const holding = await this.#view.holdsRevisions(candidates);
      candidates.forEach((ns, index) => {
        if (holding[index] && items.length <= n) items.push(ns);
      });
      if (page.length < size) break;
      from = page[page.length - 1]!;
      after = from;
    }
    return pageOf(items, n);
  }
}

/** At most `n` of `items`, which hold up to `n + 1` so that `more` is known; `items` is a fresh array, cut in place. */
function pageOf<T>(items: T[], n: number): Page<T> {
  const more = items.length > n;
  if (more) items.length = n;
  return { items, more };
}

const EMPTY: Page<never> = { items: [], more: false };

