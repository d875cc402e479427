import type { Digest } from '../oci/digest.ts';
import type { Namespace } from '../oci/name.ts';
import type { Tag } from '../oci/tag.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { ordOf, tagKeys, timeOfOrd, type TagAction, type TagEvent } from './keys.ts';
import { linkKeys, type LinkCache } from './link-cache.ts';
import { PrefixMemo } from './memo.ts';

/** The current target of a tag, from its newest event group (chapter 04 §1.6). */
export interface TagTarget {
  digest: Digest;
  /** Author time of the winning `set`; undefined for untimed entries (never win against timed ones). */
  createdAt: number | undefined;
}

/** Body of a tag event: what was pushed, so listings need not open the manifest. */
export interface TagEventBody {
  media_type?: string;
  size?: number;
  annotations?: Record<string, string>;
}

/** A tag and its winning event, `set` or `del`. */
export interface TagWinner {
  tag: Tag;
  winner: TagEvent;
}

/** Every tag of a namespace with its winner, in tag byte order. */
interface TagSnapshot {
  ordered: TagWinner[];
  byTag: Map<Tag, TagEvent>;
}

/** Namespaces whose tag snapshots are kept (each holds one entry per tag ever written). */
const SNAPSHOTS = 256;
const PAGE = 1000;

/**
 * Tags as append-only, author-timestamped set/del events: no read-modify-write, last writer wins by key order.
 * All events of a namespace sit under one prefix in (tag, newest first) order, so one listing resolves every
 * tag; where the store can stamp that prefix, the resolved snapshot is reused until an event lands.
 *
 * With a link cache (S3), `winner`/`resolve` may answer from it, up to its TTL behind another replica's write;
 * whatever decides a write, a delete or access (ownership, delete waves, immutability) uses the `fresh` reads.
 */
export class Tags {
  private readonly store: ObjectStore;
  private readonly snapshots: PrefixMemo<TagSnapshot>;
  private readonly links: LinkCache | undefined;

  constructor(store: ObjectStore, links?: LinkCache) {
    this.store = store;
    this.snapshots = new PrefixMemo(store, SNAPSHOTS);
    this.links = links;
  }

  /** The tag's winning `set` event target, or undefined when absent or deleted. Does not check the revision exists. */
  async resolve(ns: Namespace, tag: Tag): Promise<TagTarget | undefined> {
    return targetOf(await this.winner(ns, tag));
  }

  /** `resolve` from storage, never from the link cache. */
  async freshResolve(ns: Namespace, tag: Tag): Promise<TagTarget | undefined> {
    return targetOf(await this.freshWinner(ns, tag));
  }

  /** The winning event, `set` or `del`: the smallest `<ord>` group, highest digest, `set` beating `del` on a tie. */
  winner(ns: Namespace, tag: Tag): Promise<TagEvent | undefined> {
    if (!this.links) return this.storedWinner(ns, tag);
    return this.links.read(linkKeys.tag(ns, tag), () => this.storedWinner(ns, tag));
  }

  /** `winner` from storage, never from the link cache (whose entry it refreshes). */
  freshWinner(ns: Namespace, tag: Tag): Promise<TagEvent | undefined> {
    if (!this.links) return this.storedWinner(ns, tag);
    return this.links.refresh(linkKeys.tag(ns, tag), () => this.storedWinner(ns, tag));
  }

  /**
   * Appends an event, then drops the tag's link-cache entry rather than caching the event: with author timestamps
   * from replication, or another replica's newer event, the appended event need not be the winner.
   */
  async append(ns: Namespace, tag: Tag, action: TagAction, digest: Digest, authorTimeMs: number, body: TagEventBody): Promise<void> {
    const event: TagEvent = { ord: ordOf(authorTimeMs), action, digest };
    await this.store.put(tagKeys.event(ns, tag, event), JSON.stringify(body));
    await this.links?.forget(linkKeys.tag(ns, tag));
  }

  private async storedWinner(ns: Namespace, tag: Tag): Promise<TagEvent | undefined> {
    if (this.snapshots.active) return (await this.snapshot(ns)).byTag.get(tag);
    for await (const group of this.groups(ns, tagKeys.tag(ns, tag), 16)) return group.tag === tag ? group.winner : undefined;
    return undefined;
  }

  /** Every tag ever written in the namespace after `after`, ascending, with its winner; callers filter. */
  async *winners(ns: Namespace, after?: Tag): AsyncGenerator<TagWinner> {
    if (!this.snapshots.active) {
      yield* this.groups(ns, after === undefined ? undefined : tagKeys.after(ns, after), PAGE);
      return;
    }
    const { ordered } = await this.snapshot(ns);
    let low = 0;
    let high = ordered.length;
    while (after !== undefined && low < high) {
      const middle = (low + high) >>> 1;
      if (ordered[middle]!.tag <= after) low = middle + 1;
      else high = middle;
    }
    for (let index = low; index < ordered.length; index++) yield ordered[index]!;
  }

  private snapshot(ns: Namespace): Promise<TagSnapshot> {
    return this.snapshots.get(tagKeys.namespace(ns), async () => {
      const ordered: TagWinner[] = [];
      for await (const group of this.groups(ns, undefined, PAGE)) ordered.push(group);
      return { ordered, byTag: new Map(ordered.map(({ tag, winner }) => [tag, winner])) };
    });
  }

  /** Tags and winners from one listing that starts after `startAfter`; an event group may span pages. */
  private async *groups(ns: Namespace, startAfter: string | undefined, limit: number): AsyncGenerator<TagWinner> {
    let current: TagWinner | undefined;
    let cursor = startAfter;
    for (;;) {
      const page = await this.store.list(tagKeys.namespace(ns), { limit, ...(cursor !== undefined ? { startAfter: cursor } : {}) });
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
}

function targetOf(winner: TagEvent | undefined): TagTarget | undefined {
  if (!winner || winner.action === 'del') return undefined;
  return { digest: winner.digest, createdAt: timeOfOrd(winner.ord) };
}

function beats(candidate: TagEvent, current: TagEvent): boolean {
  if (candidate.digest !== current.digest) return candidate.digest > current.digest;
  return candidate.action === 'set' && current.action === 'del';
}
