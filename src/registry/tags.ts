import type { Digest } from '../oci/digest.ts';
import type { Namespace } from '../oci/name.ts';
import type { Tag } from '../oci/tag.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { ordOf, tagKeys, timeOfOrd, type TagAction, type TagEvent } from './keys.ts';

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

/** Tags as append-only, author-timestamped set/del events: no read-modify-write, last writer wins by key order. */
export class Tags {
  private readonly store: ObjectStore;

  constructor(store: ObjectStore) {
    this.store = store;
  }

  /** The tag's winning `set` event target, or undefined when absent or deleted. Does not check the revision exists. */
  async resolve(ns: Namespace, tag: Tag): Promise<TagTarget | undefined> {
    const winner = await this.winner(ns, tag);
    if (!winner || winner.action === 'del') return undefined;
    return { digest: winner.digest, createdAt: timeOfOrd(winner.ord) };
  }

  /** The winning event, `set` or `del`: the smallest `<ord>` group, highest digest, `set` beating `del` on a tie. */
  async winner(ns: Namespace, tag: Tag): Promise<TagEvent | undefined> {
    let best: TagEvent | undefined;
    let startAfter: string | undefined;
    for (;;) {
      const page = await this.store.list(tagKeys.tag(ns, tag), { limit: 16, ...(startAfter ? { startAfter } : {}) });
      for (const key of page.keys) {
        const event = tagKeys.parseEvent(key);
        if (!event) continue;
        if (best && event.ord !== best.ord) return best;
        if (!best || beats(event, best)) best = event;
      }
      if (page.next === undefined) return best;
      startAfter = page.next;
    }
  }

  async append(ns: Namespace, tag: Tag, action: TagAction, digest: Digest, authorTimeMs: number, body: TagEventBody): Promise<void> {
    const event: TagEvent = { ord: ordOf(authorTimeMs), action, digest };
    await this.store.put(tagKeys.event(ns, tag, event), JSON.stringify(body));
  }

  /** Names of every tag ever written in the namespace, ascending; callers resolve each. */
  async names(ns: Namespace, startAfter?: Tag, limit = 1000): Promise<{ tags: Tag[]; more: boolean }> {
    const page = await this.store.listChildren(tagKeys.namespace(ns), {
      limit,
      ...(startAfter !== undefined ? { startAfter: `${startAfter}!` } : {}),
    });
    const tags: Tag[] = [];
    for (const child of page.children) {
      const tag = tagKeys.parseChild(child.name);
      if (tag !== undefined) tags.push(tag);
    }
    return { tags, more: page.next !== undefined };
  }
}

function beats(candidate: TagEvent, current: TagEvent): boolean {
  if (candidate.digest !== current.digest) return candidate.digest > current.digest;
  return candidate.action === 'set' && current.action === 'del';
}
