import type { ObjectStore } from '../storage/object-store.ts';
import { Access } from './access.ts';
import { Blobs } from './blobs.ts';
import { Listings } from './listings.ts';
import { Manifests } from './manifests.ts';
import { Referrers } from './referrers.ts';
import { Revisions } from './revisions.ts';
import type { RegistrySettings } from './settings.ts';
import { Tags } from './tags.ts';
import { Uploads } from './uploads.ts';

/** The registry domain: everything the HTTP layer calls, over one blob store and one metadata store. */
export class Registry {
  readonly blobs: Blobs;
  readonly uploads: Uploads;
  readonly manifests: Manifests;
  readonly referrers: Referrers;
  readonly listings: Listings;
  private readonly meta: ObjectStore;

  constructor(blobStore: ObjectStore, metaStore: ObjectStore, settings: () => RegistrySettings) {
    const tags = new Tags(metaStore);
    const revisions = new Revisions(metaStore);
    const access = new Access(metaStore, tags, revisions);
    this.meta = metaStore;
    this.blobs = new Blobs(blobStore, metaStore, access);
    this.uploads = new Uploads(blobStore, metaStore, access, () => settings().maxBlobSize);
    this.manifests = new Manifests(blobStore, metaStore, tags, revisions, access, settings);
    this.referrers = new Referrers(metaStore, tags, this.manifests);
    this.listings = new Listings(metaStore, tags, revisions);
  }

  /** One bounded metadata-store probe, for `/readyz`. */
  async probe(): Promise<void> {
    await this.meta.list('v2/cat', { limit: 1 });
  }
}
