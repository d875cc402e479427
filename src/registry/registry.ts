import type { ObjectStore } from '../storage/object-store.ts';
import { Access } from './access.ts';
import { Blobs } from './blobs.ts';
import { Inventory } from './inventory.ts';
import type { LinkCache } from './link-cache.ts';
import { Listings } from './listings.ts';
import { Manifests } from './manifests.ts';
import { NamespaceContents } from './namespace-contents.ts';
import { ReferrerRecords, Referrers } from './referrers.ts';
import { RevisionListing } from './revision-listing.ts';
import { Revisions } from './revisions.ts';
import type { RegistrySettings } from './settings.ts';
import { Tags } from './tags.ts';
import { UploadListing } from './upload-listing.ts';
import { Uploads } from './uploads.ts';

/**
 * The registry domain: everything the HTTP layer calls, over one blob store and one metadata store, with the link
 * cache of an S3 metadata store when there is one (`openLinkCache`).
 */
export class Registry {
  readonly blobs: Blobs;
  readonly uploads: Uploads;
  readonly manifests: Manifests;
  readonly referrers: Referrers;
  readonly listings: Listings;
  /** The extension API's views (chapter 01 §10). */
  readonly inventory: Inventory;
  readonly revisionListing: RevisionListing;
  readonly uploadListing: UploadListing;
  private readonly meta: ObjectStore;

  constructor(blobStore: ObjectStore, metaStore: ObjectStore, settings: () => RegistrySettings, linkCache?: LinkCache) {
    // A store that stamps prefixes (the filesystem) keeps lookups exact through `PrefixMemo`; a link cache there
    // would only add staleness (chapter 04 §2.6: off on a filesystem).
    const links = metaStore.changeStamps === undefined ? linkCache : undefined;
    const tags = new Tags(metaStore, links);
    const revisions = new Revisions(metaStore, links);
    const referrerRecords = new ReferrerRecords(metaStore, links);
    const access = new Access(metaStore, tags, revisions);
    this.meta = metaStore;
    this.blobs = new Blobs(blobStore, metaStore, access, () => settings().presignTtlSecs);
    this.uploads = new Uploads(blobStore, metaStore, access, () => settings().maxBlobSize);
    this.manifests = new Manifests(blobStore, metaStore, tags, revisions, access, referrerRecords, settings);
    this.referrers = new Referrers(referrerRecords, tags, this.manifests);
    this.listings = new Listings(metaStore, tags, revisions);
    const contents = new NamespaceContents(metaStore, tags);
    this.uploadListing = new UploadListing(blobStore, this.uploads);
    this.revisionListing = new RevisionListing(contents, revisions, this.manifests, this.referrers);
    this.inventory = new Inventory(metaStore, this.listings, contents, this.uploadListing);
  }

  /** One bounded metadata-store probe, for `/readyz`. */
  async probe(): Promise<void> {
    await this.meta.list('v2/cat', { limit: 1 });
  }
}
