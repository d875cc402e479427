import type { ObjectStore } from '../../storage/object-store.ts';
import type { LinkCache } from './link-cache.ts';
import { BodyCache } from './body-cache.ts';
import { LinkCachedReads } from './link-cached-reads.ts';
import type { ReadView } from './read-view.ts';
import { StampedReads } from './stamped-reads.ts';
import { StoreReads } from './store-reads.ts';
import { MetadataWrites } from './writes.ts';

/** Manifest bodies kept in memory: 16 MiB of them, each up to 1 MiB. */
const BODY_CACHE_BYTES = 16 * 1024 * 1024;
const BODY_CACHE_LARGEST = 1024 * 1024;

/**
 * The one layer between the registry domain and its stores (docs/architecture.md, "The read layer"): two views to
 * read through and the writes that keep them honest.
 */
export interface MetadataLayer {
  /** May answer from what was read before (GET/HEAD, listings). */
  readonly cached: ReadView;
  /** Answers from storage: for whatever decides a write, a delete or access. */
  readonly fresh: ReadView;
  readonly writes: MetadataWrites;
}

/**
 * Picks the views the metadata store allows: a store that stamps prefixes (the filesystem) gets the stamp memo,
 * exact and so both views; otherwise the link cache when there is one (S3), else plain reads. A link cache over a
 * filesystem would only add staleness, so it is ignored there.
 */
export function openMetadataLayer(meta: ObjectStore, blobs: ObjectStore, linkCache?: LinkCache): MetadataLayer {
  const store = new StoreReads(meta, blobs, new BodyCache(BODY_CACHE_BYTES, BODY_CACHE_LARGEST));
  if (meta.changeStamps !== undefined) {
    const stamped = new StampedReads(meta, store);
    return { cached: stamped, fresh: stamped, writes: new MetadataWrites(meta, undefined) };
  }
  if (linkCache === undefined) return { cached: store, fresh: store, writes: new MetadataWrites(meta, undefined) };
  return {
    cached: new LinkCachedReads(store, linkCache, 'cached'),
    fresh: new LinkCachedReads(store, linkCache, 'fresh'),
    writes: new MetadataWrites(meta, linkCache),
  };
}
