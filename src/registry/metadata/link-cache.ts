import type { Cache } from '../../cache/cache.ts';
import type { MetadataStoreConfig } from '../../config/types.ts';
import type { Digest } from '../../oci/digest.ts';
import type { Namespace } from '../../oci/name.ts';
import type { Tag } from '../../oci/tag.ts';
import { logger } from '../../observability/logging.ts';

const log = logger('angos::registry::metadata::link_cache');

/**
 * Cache keys of the link cache. They live in the `[cache]` backend, not in storage, and Redis shares them between
 * replicas: namespaces and tags hold no `:`, so each key names exactly one lookup.
 */
export const linkKeys = {
  /** The winning event of one tag (`set` or `del`), or its absence. */
  tag: (ns: Namespace, tag: Tag) => `link:tag:${ns}:${tag}`,
  /** One revision record, or its absence. */
  revision: (ns: Namespace, digest: Digest) => `link:rev:${ns}:${digest}`,
  /** Whether the namespace holds any revision record (the catalog's content check). */
  holding: (ns: Namespace) => `link:any:${ns}`,
  /** The referrer records naming one subject. */
  referrers: (ns: Namespace, subject: Digest) => `link:ref:${ns}:${subject}`,
  /** The first live tags of a namespace, in order (`LinkCachedReads.liveTags`). */
  liveTags: (ns: Namespace) => `link:tags:${ns}`,
};

const MISS = Symbol('miss');

/** A read in flight whose answer must not be cached once a write to its key has landed since it began. */
interface PendingRead {
  stale: boolean;
}

/**
 * The link cache (docs/storage.md, "S3 link cache"): resolved tag, revision and referrer metadata of an S3 metadata
 * store, kept in the `[cache]` backend for `ttlSecs`, so repeated pulls and listings skip S3 round trips. Absence
 * is cached too (as JSON `null`). Writers of this process fill or drop the key after their storage write, and a
 * read that overlapped such a write does not cache what it read; another replica's write is seen once the entry
 * expires (memory cache) or at once (Redis, where the writer updates the shared key). A cache that fails is a miss
 * on read and is ignored on write: storage stays the truth.
 */
export class LinkCache {
  readonly ttlSecs: number;
  readonly #cache: Cache;
  readonly #reading = new Map<string, Set<PendingRead>>();

  constructor(cache: Cache, ttlSecs: number) {
    this.#cache = cache;
    this.ttlSecs = ttlSecs;
  }

  /** The cached answer for `key`, else `load()`'s, which is then cached. */
  async read<V>(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const hit = await this.#get<V>(key);
    return hit === MISS ? this.refresh(key, load) : hit;
  }

  /** `load()`'s answer, never the cached one; it replaces the entry unless a write overlapped the load. */
  async refresh<V>(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const pending: PendingRead = { stale: false };
    let readers = this.#reading.get(key);
    if (!readers) this.#reading.set(key, (readers = new Set()));
    readers.add(pending);
    try {
      const value = await load();
      if (!pending.stale) await this.#set(key, value);
      return value;
    } finally {
      readers.delete(pending);
      if (readers.size === 0 && this.#reading.get(key) === readers) this.#reading.delete(key);
    }
  }

  /** After a storage write whose result is known exactly: caches it. */
  async write<V>(key: string, value: V | undefined): Promise<void> {
    this.#overtake(key);
    await this.#set(key, value);
  }

  /** After a storage write or delete whose effect on `key` is not known here: drops the entry. */
  async forget(key: string): Promise<void> {
    this.#overtake(key);
    try {
      await this.#cache.delete(key);
    } catch (err) {
      log.debug('link cache delete failed', { key, error: (err as Error).message });
    }
  }

  #overtake(key: string): void {
    for (const pending of this.#reading.get(key) ?? []) pending.stale = true;
  }

  async #get<V>(key: string): Promise<V | undefined | typeof MISS> {
    try {
      const raw = await this.#cache.get(key);
      if (raw === undefined) return MISS;
      const value = JSON.parse(raw) as V | null;
      return value === null ? undefined : value;
    } catch {
      return MISS;
    }
  }

  async #set(key: string, value: unknown): Promise<void> {
    try {
      await this.#cache.set(key, JSON.stringify(value ?? null), this.ttlSecs);
    } catch (err) {
      log.debug('link cache write failed', { key, error: (err as Error).message });
    }
  }
}

/**
 * The link cache the metadata store gets: none on a filesystem (its change stamps keep lookups exact, see
 * `PrefixMemo`) or with `link_cache_ttl = 0`.
 */
export function openLinkCache(store: MetadataStoreConfig, cache: Cache): LinkCache | undefined {
  if (store.kind !== 's3' || store.linkCacheTtlSecs === 0) return undefined;
  return new LinkCache(cache, store.linkCacheTtlSecs);
}
