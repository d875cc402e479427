// Stores, cache and registry as a command builds them from a configuration: shared by `angos server` and
// `angos worker`, so both open storage the same way.
import type { Cache } from '../cache/cache.ts';
import { openCache } from '../cache/open-cache.ts';
import { isImmutableTag } from '../config/repository-lookup.ts';
import { S3_DEFAULTS } from '../config/s3-section.ts';
import type { BlobStoreConfig, Config, MetadataStoreConfig } from '../config/types.ts';
import type { Namespace } from '../oci/name.ts';
import type { Tag } from '../oci/tag.ts';
import type { RegistryEventSink } from '../registry/events.ts';
import { openLinkCache } from '../registry/metadata/link-cache.ts';
import { Registry } from '../registry/registry.ts';
import type { RegistrySettings } from '../registry/settings.ts';
import type { MemoryPolicy } from '../runtime/memory-policy.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { openFsStore, openS3Store } from '../storage/open-store.ts';

export interface RegistryParts {
  registry: Registry;
  cache: Cache;
  blobStore: ObjectStore;
  metaStore: ObjectStore;
}

/**
 * Opens both stores (S3: clients built, the blob store's server probed for the multipart operations uploads need),
 * the cache unless one is passed to keep its contents, and the registry over them. A failure leaves nothing in
 * force: the caller keeps what it had.
 */
export async function openRegistry(config: Config, settings: () => RegistrySettings, events: RegistryEventSink, options: { memory?: MemoryPolicy; keptCache?: Cache } = {}): Promise<RegistryParts> {
  const blobStore = await openStore(config.blobStore, 'blob_store', options.memory, true);
  const metaStore = await openStore(config.metadataStore, 'metadata_store', options.memory, false);
  const cache = options.keptCache ?? (await openCache(config.cache));
  const linkCache = openLinkCache(config.metadataStore, cache);
  const registry = new Registry({ blobStore, metaStore, settings, events, ...(linkCache ? { linkCache } : {}) });
  return { registry, cache, blobStore, metaStore };
}

/** The registry's settings under `config`. */
export function registrySettings(config: Config): RegistrySettings {
  return {
    maxManifestSize: config.global.maxManifestSize,
    maxBlobSize: config.global.maxBlobSize,
    allowMissingManifestReferences: config.global.allowMissingManifestReferences,
    isImmutable: (ns: Namespace, tag: Tag) => isImmutableTag(config, ns, tag),
    presignTtlSecs: presignTtlOf(config),
    updatePullTime: config.global.updatePullTime,
  };
}

/** Presigned URLs only come from an S3 blob store; the filesystem never redirects, so its value is never used. */
export function presignTtlOf(config: Config): number {
  return config.blobStore.kind === 's3' ? config.blobStore.settings.presignTtlSecs : S3_DEFAULTS.presignTtlSecs;
}

/** `uploads`: the store holds upload sessions, so an S3 server must have the multipart operations they need. */
async function openStore(store: BlobStoreConfig | MetadataStoreConfig, key: string, memory: MemoryPolicy | undefined, uploads: boolean): Promise<ObjectStore> {
  if (store.kind === 'fs') return openFsStore(store.rootDir, store.syncToDisk, memory);
  const s3 = await openS3Store(store.settings, `${key}.s3`);
  if (!uploads) return s3;
  try {
    await s3.checkMultipartSupport();
  } catch (err) {
    s3.destroy();
    throw err;
  }
  return s3;
}
