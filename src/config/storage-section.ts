// `[blob_store]` and `[metadata_store]` (docs/configuration.md): a filesystem or an S3 backend each, the metadata
// store inheriting the blob store's when it has no section of its own.
import { ignoreLockEraKeys } from './lock-strategy.ts';
import { DEFAULT_ACCESS_TIME_DEBOUNCE_SECS, DEFAULT_LINK_CACHE_TTL_SECS, inheritedS3Settings, readS3Settings } from './s3-section.ts';
import { ConfigValueError, type TableReader } from './table-reader.ts';
import type { BlobStoreConfig, MetadataStoreConfig } from './types.ts';

/** The one backend table of a store section; both or neither is an error. */
function chooseBackend(section: TableReader): 'fs' | 's3' {
  const hasFs = section.has('fs');
  const hasS3 = section.has('s3');
  if (hasFs && hasS3) throw new ConfigValueError(`${section.path}: only one of 'fs' or 's3' may be configured`);
  if (!hasFs && !hasS3) throw new ConfigValueError(`${section.path}: expected one of 'fs' or 's3'`);
  return hasFs ? 'fs' : 's3';
}

function requireRootDir(store: TableReader, inherited: string | undefined): string {
  const rootDir = store.string('root_dir') ?? inherited ?? store.missing('root_dir');
  if (rootDir === '') throw new ConfigValueError(`${store.pathOf('root_dir')} must not be empty`);
  return rootDir;
}

/** `storage` is the original's older name for `blob_store`. */
function blobStoreTable(root: TableReader): TableReader {
  if (root.has('storage')) {
    if (root.has('blob_store')) throw new ConfigValueError(`cannot set both 'storage' and 'blob_store'; 'storage' is the deprecated name of 'blob_store'`);
    root.warn(`'storage' is deprecated; rename the section to 'blob_store'`);
    return root.table('storage')!;
  }
  return root.table('blob_store') ?? root.missing('blob_store');
}

export function readBlobStore(root: TableReader): BlobStoreConfig {
  const section = blobStoreTable(root);
  const backend = chooseBackend(section);
  if (backend === 's3') {
    const s3 = section.table('s3')!;
    const settings = readS3Settings(s3);
    s3.finish();
    section.finish();
    return { kind: 's3', settings };
  }
  const fs = section.table('fs')!;
  const config: BlobStoreConfig = { kind: 'fs', rootDir: requireRootDir(fs, undefined), syncToDisk: fs.bool('sync_to_disk') ?? false };
  fs.finish();
  section.finish();
  return config;
}

function inheritedMetadataStore(blobStore: BlobStoreConfig): MetadataStoreConfig {
  if (blobStore.kind === 'fs') return { ...blobStore };
  return {
    kind: 's3',
    settings: inheritedS3Settings(blobStore.settings),
    inherited: true,
    linkCacheTtlSecs: DEFAULT_LINK_CACHE_TTL_SECS,
    accessTimeDebounceSecs: DEFAULT_ACCESS_TIME_DEBOUNCE_SECS,
  };
}

export function readMetadataStore(root: TableReader, blobStore: BlobStoreConfig): MetadataStoreConfig {
  const section = root.table('metadata_store');
  if (section === undefined) return inheritedMetadataStore(blobStore);
  const backend = chooseBackend(section);
  if (backend === 's3') {
    const s3 = section.table('s3')!;
    ignoreLockEraKeys(s3);
    const config: MetadataStoreConfig = {
      kind: 's3',
      settings: readS3Settings(s3),
      inherited: false,
      linkCacheTtlSecs: s3.integer('link_cache_ttl', { min: 0 }) ?? DEFAULT_LINK_CACHE_TTL_SECS,
      accessTimeDebounceSecs: s3.integer('access_time_debounce_secs', { min: 0 }) ?? DEFAULT_ACCESS_TIME_DEBOUNCE_SECS,
    };
    s3.finish();
    section.finish();
    return config;
  }
  const fs = section.table('fs')!;
  const blobFs = blobStore.kind === 'fs' ? blobStore : undefined;
  ignoreLockEraKeys(fs);
  const config: MetadataStoreConfig = {
    kind: 'fs',
    rootDir: requireRootDir(fs, blobFs?.rootDir),
    syncToDisk: fs.bool('sync_to_disk') ?? blobFs?.syncToDisk ?? false,
  };
  fs.finish();
  section.finish();
  return config;
}
