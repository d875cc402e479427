import type { Digest } from '../../oci/digest.ts';
import type { Descriptor } from '../../oci/manifest.ts';
import type { Namespace } from '../../oci/name.ts';
import type { Tag } from '../../oci/tag.ts';
import type { ObjectStore } from '../../storage/object-store.ts';
import { catalogKeys, referrerKeys, revisionKeys, tagKeys, type TagEvent } from '../keys.ts';
import { liveTagsOf } from './live-tags.ts';
import { PrefixMemo, TreeMemo } from './memo.ts';
import type { ReadView, RevisionLookup } from './read-view.ts';
import type { RevisionRecord, TagWinner } from './records.ts';
import type { StoreReads } from './store-reads.ts';
import { LOOKUP_CONCURRENCY } from '../map-limited.ts';

/** Every tag of a namespace with its winner, in tag byte order. */
interface TagSnapshot {
  ordered: TagWinner[];
  byTag: Map<Tag, TagEvent>;
}

/** Namespaces whose tag snapshots are kept (each holds one entry per tag ever written). */
const TAG_SNAPSHOTS = 256;
/** Namespaces whose revision lookups are kept, and the most lookups kept per namespace. */
const REVISION_NAMESPACES = 1024;
const LOOKUPS_PER_NAMESPACE = 4096;
/**
 * Namespaces whose "holds a revision" answer is kept (a stamp and a boolean each, ~150 bytes): enough that a catalog
 * paged through a registry of tens of thousands of namespaces checks stamps, not directories.
 */
const HOLDING_NAMESPACES = 65_536;
const REFERRER_SUBJECTS = 1024;

/**
 * The read view of a store that stamps prefixes (the filesystem, docs/storage.md "Lookups on a filesystem"):
 * what was computed from a directory is reused while that directory's change stamp holds, and the stamp is checked
 * on every use, so nothing is older than a fresh read and another server's write on the same root is seen at once.
 * It is therefore both the cached and the fresh view.
 */
export class StampedReads implements ReadView {
  readonly #store: StoreReads;
  readonly #tags: PrefixMemo<TagSnapshot>;
  readonly #revisions: PrefixMemo<Map<Digest, RevisionRecord | undefined>>;
  readonly #holding: PrefixMemo<boolean>;
  readonly #referrers: PrefixMemo<Descriptor[]>;
  readonly #liveTags: PrefixMemo<Tag[]>;
  readonly #revisionDigests: PrefixMemo<Digest[]>;
  readonly #catalog: TreeMemo<Namespace[]>;
  readonly #meta: ObjectStore;

  constructor(meta: ObjectStore, store: StoreReads) {
    this.#meta = meta;
    this.#store = store;
    this.#tags = new PrefixMemo(meta, TAG_SNAPSHOTS);
    this.#revisions = new PrefixMemo(meta, REVISION_NAMESPACES);
    this.#holding = new PrefixMemo(meta, HOLDING_NAMESPACES);
    this.#referrers = new PrefixMemo(meta, REFERRER_SUBJECTS);
    this.#liveTags = new PrefixMemo(meta, TAG_SNAPSHOTS);
    this.#revisionDigests = new PrefixMemo(meta, TAG_SNAPSHOTS);
    this.#catalog = new TreeMemo(meta);
  }

  async tagWinner(ns: Namespace, tag: Tag): Promise<TagEvent | undefined> {
    return (await this.#tagSnapshot(ns)).byTag.get(tag);
  }

  async tagWinnersOf(ns: Namespace, tags: readonly Tag[]): Promise<Map<Tag, TagEvent | undefined>> {
    const { byTag } = await this.#tagSnapshot(ns);
    return new Map(tags.map((tag) => [tag, byTag.get(tag)]));
  }

  async *tagWinners(ns: Namespace, after?: Tag): AsyncGenerator<TagWinner> {
    const { ordered } = await this.#tagSnapshot(ns);
    for (let index = indexOf(ordered, (entry) => entry.tag, { after }); index < ordered.length; index++) yield ordered[index]!;
  }

  /** From every live tag of the namespace, kept while neither its tag events nor its revision records change. */
  async liveTags(ns: Namespace, after: string | undefined, limit: number): Promise<Tag[]> {
    const all = await this.#liveTags.get([tagKeys.namespace(ns), revisionKeys.namespace(ns)], () => liveTagsOf(this, ns, undefined, Infinity));
    const start = indexOf(all, (tag) => tag, { after });
    return all.slice(start, start + limit);
  }

  revisionDigests(ns: Namespace): Promise<Digest[]> {
    return this.#revisionDigests.get(revisionKeys.namespace(ns), () => this.#store.revisionDigests(ns));
  }

  async revisions(ns: Namespace): Promise<RevisionLookup> {
    const known = await this.#revisions.get(revisionKeys.namespace(ns), async () => new Map());
    return async (digest) => {
      if (known.has(digest)) return known.get(digest);
      const record = await this.#store.revision(ns, digest);
      if (known.size >= LOOKUPS_PER_NAMESPACE) known.clear();
      known.set(digest, record);
      return record;
    };
  }

  holdsRevisions(namespaces: readonly Namespace[]): Promise<boolean[]> {
    const prefixes = namespaces.map((ns) => revisionKeys.namespace(ns));
    return this.#holding.getMany(prefixes, (index) => this.#store.holdsRevision(namespaces[index]!), LOOKUP_CONCURRENCY);
  }

  referrers(ns: Namespace, subject: Digest): Promise<Descriptor[]> {
    return this.#referrers.get(referrerKeys.subject(ns, subject), () => this.#store.referrers(ns, subject));
  }

  async cataloguedPage(from: Namespace | undefined, limit: number): Promise<Namespace[]> {
    const all = await this.#catalog.get((visit) => this.#listCatalogued(visit));
    const start = indexOf(all, (ns) => ns, { from });
    return all.slice(start, start + limit);
  }

  manifestBody(digest: Digest): Promise<Buffer> {
    return this.#store.manifestBody(digest);
  }

  #tagSnapshot(ns: Namespace): Promise<TagSnapshot> {
    return this.#tags.get(tagKeys.namespace(ns), async () => {
      const ordered: TagWinner[] = [];
      for await (const group of this.#store.tagWinners(ns)) ordered.push(group);
      return { ordered, byTag: new Map(ordered.map(({ tag, winner }) => [tag, winner])) };
    });
  }

  /**
   * Every catalogued namespace, ascending, from a walk of the catalog's directories: a namespace added anywhere
   * changes its own directory's stamp, or creates a directory, which changes its parent's (`TreeMemo`).
   */
  async #listCatalogued(visit: (prefix: string) => Promise<void>): Promise<Namespace[]> {
    const found: Namespace[] = [];
    const walk = async (prefix: string): Promise<void> => {
      await visit(prefix);
      let startAfter: string | undefined;
      do {
        const page = await this.#meta.listChildren(prefix, startAfter !== undefined ? { startAfter } : {});
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

/** Index of the first item of an ascending list whose key sorts after `after`, or at or after `from` (0 without a bound). */
function indexOf<T>(sorted: readonly T[], keyOf: (item: T) => string, bound: { after?: string | undefined; from?: string | undefined }): number {
  const { after, from } = bound;
  let low = 0;
  let high = sorted.length;
  while ((after !== undefined || from !== undefined) && low < high) {
    const middle = (low + high) >>> 1;
    const key = keyOf(sorted[middle]!);
    if (after !== undefined ? key <= after : key < from!) low = middle + 1;
    else high = middle;
  }
  return low;
}
