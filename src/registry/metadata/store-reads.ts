import type { Digest } from '../../oci/digest.ts';
import type { Descriptor } from '../../oci/manifest.ts';
import type { Namespace } from '../../oci/name.ts';
import type { Tag } from '../../oci/tag.ts';
import { isNotFound, type ObjectStore } from '../../storage/object-store.ts';
import { listAll, readJson } from '../json-record.ts';
import { blobKeys, catalogKeys, referrerKeys, revisionKeys, tagKeys, type TagEvent } from '../keys.ts';
import { LOOKUP_CONCURRENCY, mapLimited } from '../map-limited.ts';
import type { BodyCache } from './body-cache.ts';
import { liveTagsOf } from './live-tags.ts';
import type { ReadView, RevisionLookup } from './read-view.ts';
import type { RevisionRecord, TagWinner } from './records.ts';

const PAGE = 1000;
/**
 * Keys asked for at once when walking a whole namespace's tag events. A filesystem reads and sorts the whole
 * directory for every page, so small pages make a walk quadratic; an object store pages internally anyway.
 */
const WALK_PAGE = 100_000;
/** Up to this many tags cost less as separate short listings than as one listing of the whole namespace. */
export const FEW_TAGS = 4;

/**
 * The read algorithms straight over the stores, reusing nothing but manifest bodies: every other view is built on
 * these. Tags are append-only author-timestamped events, all of a namespace's under one prefix in (tag, newest
 * first) order, so one listing resolves every tag (docs/storage.md).
 */
export class StoreReads implements ReadView {
  readonly #meta: ObjectStore;
  readonly #blobs: ObjectStore;
  readonly #bodies: BodyCache;

  constructor(meta: ObjectStore, blobs: ObjectStore, bodies: BodyCache) {
    this.#meta = meta;
    this.#blobs = blobs;
    this.#bodies = bodies;
  }

  async tagWinner(ns: Namespace, tag: Tag): Promise<TagEvent | undefined> {
    for await (const group of this.#groups(ns, tagKeys.tag(ns, tag), 16)) return group.tag === tag ? group.winner : undefined;
    return undefined;
  }

  /** A few tags are looked up one by one; more are picked from one listing of the namespace's events. */
  async tagWinnersOf(ns: Namespace, tags: readonly Tag[]): Promise<Map<Tag, TagEvent | undefined>> {
    const found = new Map<Tag, TagEvent | undefined>();
    if (tags.length <= FEW_TAGS) {
      for (const tag of tags) found.set(tag, await this.tagWinner(ns, tag));
      return found;
    }
    const wanted = new Set(tags);
    for (const tag of tags) found.set(tag, undefined);
    for await (const { tag, winner } of this.tagWinners(ns)) if (wanted.has(tag)) found.set(tag, winner);
    return found;
  }

  tagWinners(ns: Namespace, after?: Tag): AsyncIterable<TagWinner> {
    return this.#groups(ns, after === undefined ? undefined : tagKeys.after(ns, after), WALK_PAGE);
  }

  liveTags(ns: Namespace, after: string | undefined, limit: number): Promise<Tag[]> {
    return liveTagsOf(this, ns, after, limit);
  }

  async revisions(ns: Namespace): Promise<RevisionLookup> {
    return (digest) => this.revision(ns, digest);
  }

  async revisionDigests(ns: Namespace): Promise<Digest[]> {
    const digests: Digest[] = [];
    for (const key of await listAll(this.#meta, revisionKeys.namespace(ns))) {
      const digest = revisionKeys.parse(ns, key);
      if (digest) digests.push(digest);
    }
    return digests;
  }

  revision(ns: Namespace, digest: Digest): Promise<RevisionRecord | undefined> {
    return readJson<RevisionRecord>(this.#meta, revisionKeys.revision(ns, digest));
  }

  holdsRevisions(namespaces: readonly Namespace[]): Promise<boolean[]> {
    return mapLimited(namespaces, LOOKUP_CONCURRENCY, (ns) => this.holdsRevision(ns));
  }

  async holdsRevision(ns: Namespace): Promise<boolean> {
    const page = await this.#meta.list(revisionKeys.namespace(ns), { limit: 1 });
    return page.keys.length > 0;
  }

  async referrers(ns: Namespace, subject: Digest): Promise<Descriptor[]> {
    const descriptors: Descriptor[] = [];
    for (const key of await listAll(this.#meta, referrerKeys.subject(ns, subject))) {
      const descriptor = await this.#referrerRecord(key);
      if (descriptor) descriptors.push(descriptor);
    }
    return descriptors;
  }

  async cataloguedPage(from: Namespace | undefined, limit: number): Promise<Namespace[]> {
    const found: Namespace[] = [];
    let startAfter = from === undefined ? undefined : catalogKeys.before(from);
    while (found.length < limit) {
      const page = await this.#meta.list(catalogKeys.root, { limit: Math.min(limit - found.length, PAGE), ...(startAfter !== undefined ? { startAfter } : {}) });
      for (const key of page.keys) {
        const ns = catalogKeys.parse(key);
        if (ns !== undefined) found.push(ns);
      }
      if (page.next === undefined) break;
      startAfter = page.next;
    }
    return found;
  }

  manifestBody(digest: Digest): Promise<Buffer> {
    return this.#bodies.get(digest, () => this.#blobs.get(blobKeys.data(digest)));
  }

  /** Tags and winners from one listing that starts after `startAfter`; an event group may span pages. */
  async *#groups(ns: Namespace, startAfter: string | undefined, limit: number): AsyncGenerator<TagWinner> {
    let current: TagWinner | undefined;
    let cursor = startAfter;
    for (;;) {
      const page = await this.#meta.list(tagKeys.namespace(ns), { limit, ...(cursor !== undefined ? { startAfter: cursor } : {}) });
      for (const key of page.keys) {
        const event = tagKeys.parseEvent(key);
        if (!event) continue;
        const { tag, ...rest } = event;
        if (current?.tag !== tag) {
          if (current) yield current;
          current = { tag, winner: rest };
        } else if (rest.ord === current.winner.ord && beats(rest, current.winner)) {
          current.winner = rest;
        }
      }
      if (page.next === undefined) break;
      cursor = page.next;
    }
    if (current) yield current;
  }

  async #referrerRecord(key: string): Promise<Descriptor | undefined> {
    try {
      const record = JSON.parse((await this.#meta.get(key)).toString('utf8')) as Partial<Descriptor>;
      const digest = referrerKeys.parse(key);
      return digest && record.mediaType ? ({ ...record, digest } as Descriptor) : undefined;
    } catch (err) {
      if (isNotFound(err) || err instanceof SyntaxError) return undefined;
      throw err;
    }
  }
}

/** Within one event group (same `<ord>`): the higher digest wins, and `set` beats `del` on the same digest. */
function beats(candidate: TagEvent, current: TagEvent): boolean {
  if (candidate.digest !== current.digest) return candidate.digest > current.digest;
  return candidate.action === 'set' && current.action === 'del';
}
