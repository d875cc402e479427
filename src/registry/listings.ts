import { isNamespace, type Namespace } from '../oci/name.ts';
import type { Tag } from '../oci/tag.ts';
import type { ReadView } from './metadata/read-view.ts';
import { takeMatching } from './take-matching.ts';

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
    const candidates = afterCursor(this.#view.catalogued(last !== undefined && isNamespace(last) ? last : undefined), last);
    return pageOf(await takeMatching(candidates, n + 1, (batch) => this.#view.holdsRevisions(batch)), n);
  }
}

/** At most `n` of `items`, which hold up to `n + 1` so that `more` is known. */
function pageOf<T>(items: T[], n: number): Page<T> {
  return { items: items.slice(0, n), more: items.length > n };
}

const EMPTY: Page<never> = { items: [], more: false };

async function* afterCursor(namespaces: AsyncIterable<Namespace>, last: string | undefined): AsyncGenerator<Namespace> {
  for await (const ns of namespaces) if (last === undefined || ns > last) yield ns;
}
