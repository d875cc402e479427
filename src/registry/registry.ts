import type { ObjectStore } from '../storage/object-store.ts';
import { Access } from './access.ts';
import { Blobs } from './blobs.ts';
import { Announcer, type RegistryEventSink } from './events.ts';
import { Inventory } from './inventory.ts';
import type { LinkCache } from './metadata/link-cache.ts';
import { Listings } from './listings.ts';
import { Manifests } from './manifests.ts';
import { openMetadataLayer, type MetadataLayer } from './metadata/layer.ts';
import { NamespaceContents } from './namespace-contents.ts';
import { PullHistory } from './pull-history.ts';
import { Referrers } from './referrers.ts';
import { RevisionListing } from './revision-listing.ts';
import type { RegistrySettings } from './settings.ts';
import { UploadListing } from './upload-listing.ts';
import { Uploads } from './uploads.ts';

/** What a registry is built from (docs/architecture.md). */
export interface RegistryParts {
  blobStore: ObjectStore;
  metaStore: ObjectStore;
  /** Read on every operation, so a configuration reload takes effect. */
  settings: () => RegistrySettings;
  /** Told of every committed change and served pull; may veto changes before they are stored. */
  events: RegistryEventSink;
  /** The S3 link cache, when the metadata store is on S3 and the cache is on. */
  linkCache?: LinkCache;
}

/** The registry domain: everything the HTTP layer calls, over one blob store and one metadata store. */
export class Registry {
  readonly blobs: Blobs;
  readonly uploads: Uploads;
  readonly manifests: Manifests;
  readonly referrers: Referrers;
  readonly listings: Listings;
  /** The extension API's views. */
  readonly inventory: Inventory;
  readonly revisionListing: RevisionListing;
  readonly uploadListing: UploadListing;
  /** Recorded pulls (`update_pull_time`): for the extension API, retention and scrub. */
  readonly pullHistory: PullHistory;
  /** The read rule and grants, for maintenance (the collector's liveness checks). */
  readonly access: Access;
  /** The read layer, for maintenance: its fresh view and every metadata write. */
  readonly metadata: MetadataLayer;
  readonly #meta: ObjectStore;

  constructor(parts: RegistryParts) {
    const { blobStore, metaStore, settings } = parts;
    const layer = openMetadataLayer(metaStore, blobStore, parts.linkCache);
    this.pullHistory = new PullHistory(metaStore, layer.writes, () => settings().updatePullTime);
    const announce = new Announcer(this.pullHistory.observing(parts.events));
    const access = new Access(metaStore, blobStore, layer.fresh, layer.writes);
    this.access = access;
    this.metadata = layer;
    this.#meta = metaStore;
    this.blobs = new Blobs(blobStore, access, announce, () => settings().presignTtlSecs);
    this.uploads = new Uploads(blobStore, access, announce, () => settings().maxBlobSize);
    this.manifests = new Manifests(blobStore, metaStore, layer, access, announce, settings);
    this.referrers = new Referrers(layer.cached, this.manifests);
    this.listings = new Listings(layer.cached);
    const contents = new NamespaceContents(layer.cached);
    this.uploadListing = new UploadListing(blobStore, this.uploads);
    this.revisionListing = new RevisionListing(contents, layer.cached, this.manifests, this.referrers, this.pullHistory);
    this.inventory = new Inventory(layer.cached, this.listings, contents, this.uploadListing);
  }

  /** One bounded metadata-store probe, for `/readyz`. */
  async probe(): Promise<void> {
    await this.#meta.list('v2/cat', { limit: 1 });
  }
}
