import type { ObjectStore } from '../storage/object-store.ts';
import { Access } from './access.ts';
import { Blobs } from './blobs.ts';
import { Inventory } from './inventory.ts';
import { Listings } from './listings.ts';
import { Manifests } from './manifests.ts';
import { NamespaceContents } from './namespace-contents.ts';
import { Referrers } from './referrers.ts';
import { RevisionListing } from './revision-listing.ts';
import { Revisions } from './revisions.ts';
import type { RegistrySettings } from './settings.ts';
import { Tags } from './tags.ts';
import { UploadListing } from './upload-listing.ts';
import { Uploads } from './uploads.ts';

/** The registry domain: everything the HTTP layer calls, over one blob store and one metadata store. */
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

  constructor(blobStore: ObjectStore, metaStore: ObjectStore, settings: () => RegistrySettings) {
    const tags = new Tags(metaStore);
    const revisions = new Revisions(metaStore);
    const access = new Access(metaStore, tags, revisions);
    this.meta = metaStore;
    this.blobs = new Blobs(blobStore, metaStore, access, () => settings().presignTtlSecs);
    this.uploads = new Uploads(blobStore, metaStore, access, () => settings().maxBlobSize);
    this.manifests = new Manifests(blobStore, metaStore, tags, revisions, access, settings);
    this.referrers = new Referrers(metaStore, tags, this.manifests);
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
