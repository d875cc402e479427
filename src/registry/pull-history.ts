import { createHash } from 'node:crypto';
import type { Digest } from '../oci/digest.ts';
import type { Namespace } from '../oci/name.ts';
import { logger } from '../observability/logging.ts';
import { isNotFound, type ObjectStore } from '../storage/object-store.ts';
import type { Actor, ManifestPulled, RegistryEventSink } from './events.ts';
import { accessKeys, ordOf, timeOfOrd, type AccessEntryName, type AccessTarget } from './keys.ts';
import { LOOKUP_CONCURRENCY, mapLimited } from './map-limited.ts';
import type { MetadataWrites } from './metadata/writes.ts';

export type { AccessEntryName, AccessTarget } from './keys.ts';

const log = logger('angos::registry::pull_history');

/**
 * Access-entry writes in flight at once. Past it a pull goes unrecorded (debug log): a flood of pulls against a
 * slow metadata store must not queue writes without bound.
 */
export const MAX_PENDING_RECORDS = 256;
/** Longest client name stored in an entry (docs/storage.md, "Pull history"). */
const MAX_CLIENT_LENGTH = 256;
/** Client hashes kept; past it the cache starts over, so many distinct clients cannot grow it. */
const MAX_CACHED_HASHES = 1024;

/** The body of an access entry. */
export interface AccessEntryBody {
  client: string;
  /** RFC 3339. */
  at: string;
}

/** One recorded pull as `entries` reads it. */
export interface RecordedPull {
  client: string;
  /** Unix ms, from the entry's key. */
  at: number;
}

/** An access entry scrub may remove: superseded by a newer one of its target and older than the audit window. */
export interface SupersededEntry {
  name: AccessEntryName;
  /** Unix ms. */
  at: number;
}

/**
 * Pull history (docs/storage.md, "Pull history"): with `update_pull_time` on, every served manifest GET/HEAD appends
 * one access entry, under the tag for a by-tag pull and under the revision for a by-digest pull. Entries are written
 * after the pull is served and never awaited by it; a failed write is logged and costs the pull nothing. Reads go
 * straight to the store (access entries are never cached), so they are fresh enough for scrub.
 */
export class PullHistory {
  readonly #meta: ObjectStore;
  readonly #writes: MetadataWrites;
  readonly #recording: () => boolean;
  /** Writes in flight by key: a repeat of the same key (same client, same millisecond) is already on its way. */
  readonly #pending = new Map<string, Promise<void>>();
  /** `<c8>` by client: hashing the name on every pull was a visible share of a pull's cost (`bench/`). */
  readonly #hashes = new Map<string, string>();

  /** `recording`: `update_pull_time`, read on every pull so a configuration reload applies at once. */
  constructor(meta: ObjectStore, writes: MetadataWrites, recording: () => boolean) {
    this.#meta = meta;
    this.#writes = writes;
    this.#recording = recording;
  }

  /** Whether pulls are recorded now; with it off the extension API reports no pull history. */
  get recording(): boolean {
    return this.#recording();
  }

  /** The sink the domain announces to: `outer` receives every event as before, and served manifest pulls are recorded. */
  observing(outer: RegistryEventSink): RegistryEventSink {
    return {
      beforeCommit: (event) => outer.beforeCommit(event),
      committed: (event) => {
        try {
          outer.committed(event);
        } finally {
          if (event.kind === 'manifest-pulled') this.record(event);
        }
      },
    };
  }

  /** Starts writing the pull's access entry when recording is on; returns at once. */
  record(event: ManifestPulled): void {
    if (!this.#recording()) return;
    const { namespace: ns, reference } = event;
    const target: AccessTarget = reference.kind === 'tag' ? { kind: 'tag', tag: reference.tag } : { kind: 'revision', digest: reference.digest };
    const client = clientOf(event.actor);
    const atMs = Math.floor(event.authoredAt / 1000);
    const name: AccessEntryName = { ord: ordOf(atMs), clientHash: this.#hashOf(client) };
    const key = accessKeys.entry(ns, target, name);
    if (this.#pending.has(key)) return;
    if (this.#pending.size >= MAX_PENDING_RECORDS) {
      log.debug('pull not recorded: too many access-entry writes in flight', { namespace: ns, key, pending: this.#pending.size });
      return;
    }
    const body: AccessEntryBody = { client, at: new Date(atMs).toISOString() };
    // Deferred past the current turn, so the response the pull is part of goes out first.
    const write = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.#writes.recordPull(ns, target, name, body))
      .catch((err: unknown) => log.warn('pull not recorded: writing the access entry failed', { namespace: ns, key, error: String(err) }))
      .finally(() => this.#pending.delete(key));
    this.#pending.set(key, write);
  }

  #hashOf(client: string): string {
    let hash = this.#hashes.get(client);
    if (hash === undefined) {
      if (this.#hashes.size >= MAX_CACHED_HASHES) this.#hashes.clear();
      hash = clientHash(client);
      this.#hashes.set(client, hash);
    }
    return hash;
  }

  /** Resolves once every access-entry write started so far has finished (tests). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending.values());
  }

  /** Whether the namespace holds any access entry (one bounded listing). */
  async holdsEntries(ns: Namespace): Promise<boolean> {
    return (await this.#meta.list(accessKeys.namespace(ns), { limit: 1 })).keys.length > 0;
  }

  /** Unix ms of the target's newest recorded pull, or undefined when it has none. */
  async lastPulledAt(ns: Namespace, target: AccessTarget): Promise<number | undefined> {
    for await (const name of this.#names(ns, target, 8)) return timeOfOrd(name.ord);
    return undefined;
  }

  /** The target's recorded pulls, newest first: at most `limit`, none older than `since` (unix ms) when given. */
  async entries(ns: Namespace, target: AccessTarget, options: { limit: number; since?: number }): Promise<RecordedPull[]> {
    const names: AccessEntryName[] = [];
    for await (const name of this.#names(ns, target, Math.min(options.limit, 1000))) {
      const at = timeOfOrd(name.ord);
      if (names.length >= options.limit || (options.since !== undefined && (at === undefined || at < options.since))) break;
      names.push(name);
    }
    const pulls = await mapLimited(names, LOOKUP_CONCURRENCY, async (name): Promise<RecordedPull | undefined> => {
      const body = await this.#body(accessKeys.entry(ns, target, name));
      return body && { client: body.client, at: timeOfOrd(name.ord)! };
    });
    return pulls.filter((pull) => pull !== undefined);
  }

  /**
   * The target's entries scrub removes (docs/storage.md, "Pull history"): every entry but the newest whose time is
   * before `now − windowMs`. Once superseded and old, an entry stays so (entries are only ever added newer and only
   * this collection removes them), so deleting one later needs no other check.
   */
  async superseded(ns: Namespace, target: AccessTarget, windowMs: number, now: number): Promise<SupersededEntry[]> {
    const removable: SupersededEntry[] = [];
    let newest = true;
    for await (const name of this.#names(ns, target, 1000)) {
      const at = timeOfOrd(name.ord);
      if (!newest && at !== undefined && at < now - windowMs) removable.push({ name, at });
      newest = false;
    }
    return removable;
  }

  /** Every target of the namespace holding access entries: tags in byte order, then revisions. */
  async *targets(ns: Namespace): AsyncIterable<AccessTarget> {
    for await (const child of this.#prefixes(accessKeys.tags(ns))) {
      const tag = accessKeys.parseTagChild(child);
      if (tag !== undefined) yield { kind: 'tag', tag };
    }
    for await (const algorithm of this.#prefixes(accessKeys.revisions(ns))) {
      for await (const child of this.#prefixes(`${accessKeys.revisions(ns)}/${algorithm}`)) {
        const digest: Digest | undefined = accessKeys.parseRevisionChild(algorithm, child);
        if (digest !== undefined) yield { kind: 'revision', digest };
      }
    }
  }

  /** The target's entry names in key order (newest first), skipping names that are not ours. */
  async *#names(ns: Namespace, target: AccessTarget, pageSize: number): AsyncIterable<AccessEntryName> {
    let startAfter: string | undefined;
    do {
      const page = await this.#meta.list(accessKeys.target(ns, target), startAfter === undefined ? { limit: pageSize } : { limit: pageSize, startAfter });
      for (const key of page.keys) {
        const name = accessKeys.parseEntry(key);
        if (name) yield name;
      }
      startAfter = page.next;
    } while (startAfter !== undefined);
  }

  /** Names of the children of `prefix` that hold keys of their own. */
  async *#prefixes(prefix: string): AsyncIterable<string> {
    let startAfter: string | undefined;
    do {
      const page = await this.#meta.listChildren(prefix, startAfter === undefined ? {} : { startAfter });
      for (const child of page.children) if (child.isPrefix) yield child.name;
      startAfter = page.next;
    } while (startAfter !== undefined);
  }

  /** An entry's body; undefined when it is gone (collected meanwhile) or unreadable. */
  async #body(key: string): Promise<AccessEntryBody | undefined> {
    let text: string;
    try {
      text = (await this.#meta.get(key)).toString('utf8');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    try {
      const body = JSON.parse(text) as Partial<AccessEntryBody>;
      return typeof body.client === 'string' ? { client: body.client, at: String(body.at) } : undefined;
    } catch {
      return undefined;
    }
  }
}

/** The name a pull is recorded under: the username (Basic, or an OIDC subject), else the identity, else `anonymous`. */
export function clientOf(actor: Actor): string {
  const name = actor.username ?? actor.id ?? 'anonymous';
  const chars = Array.from(name);
  return chars.length > MAX_CLIENT_LENGTH ? chars.slice(0, MAX_CLIENT_LENGTH).join('') : name;
}

/** `<c8>`: the first 8 hex digits of SHA-256 of the client name. */
export function clientHash(client: string): string {
  return createHash('sha256').update(client).digest('hex').slice(0, 8);
}
