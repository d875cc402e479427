// `[blob_store]` (§3.5) and `[metadata_store]` (§3.6). The filesystem backends are validated in
// full; the S3 tables are checked for their required connection keys and kept raw for the S3 work.
import { readLockStrategy } from './lock-strategy.ts';
import { ConfigValueError, type TableReader } from './table-reader.ts';
import type { BlobStoreConfig, MetadataStoreConfig, RawTable } from './types.ts';

const S3_CONNECTION_KEYS = ['access_key_id', 'secret_key', 'endpoint', 'bucket', 'region'] as const;
const S3_SECRET_KEYS = new Set<string>(['access_key_id', 'secret_key']);

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

function checkS3Settings(section: TableReader): RawTable {
  const s3 = section.lenientTable('s3')!;
  for (const key of S3_CONNECTION_KEYS) s3.requiredString(key, { secret: S3_SECRET_KEYS.has(key) });
  const endpoint = s3.string('endpoint')!;
  if (!URL.canParse(endpoint) || !['http:', 'https:'].includes(new URL(endpoint).protocol)) {
    s3.fail('endpoint', `expected an http(s) URL, got '${endpoint}'`);
  }
  s3.string('key_prefix');
  for (const key of ['multipart_part_size', 'multipart_copy_threshold', 'multipart_copy_chunk_size']) s3.size(key);
  for (const key of ['multipart_copy_jobs', 'max_attempts', 'operation_timeout_secs', 'operation_attempt_timeout_secs', 'link_cache_ttl', 'access_time_debounce_secs']) {
    s3.integer(key, { min: 0 });
  }
  s3.bool('multipart_uniform_parts');
  const capabilities = s3.lenientTable('capabilities');
  if (capabilities !== undefined) {
    for (const key of ['put_if_none_match', 'put_if_match', 'delete_if_match']) {
      if (capabilities.bool(key) === undefined) capabilities.missing(key);
    }
  }
  return section.rawTable('s3')!;
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
    const settings = checkS3Settings(section);
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
  if (blobStore.kind === 'fs') return { ...blobStore, lockStrategy: 'memory' };
  // Only the connection keys carry over, and the declared capabilities of that same server; tuning keys of the
  // blob store do not apply to metadata.
  const settings: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const key of [...S3_CONNECTION_KEYS, 'key_prefix', 'capabilities']) {
    if (blobStore.settings[key] !== undefined) settings[key] = blobStore.settings[key];
  }
  return { kind: 's3', settings, lockStrategy: 'memory', inherited: true };
}

export function readMetadataStore(root: TableReader, blobStore: BlobStoreConfig): MetadataStoreConfig {
  const section = root.table('metadata_store');
  if (section === undefined) return inheritedMetadataStore(blobStore);
  const backend = chooseBackend(section);
  if (backend === 's3') {
    const s3 = section.lenientTable('s3')!;
    const lockStrategy = readLockStrategy(s3, 's3');
    const settings = checkS3Settings(section);
    section.finish();
    return { kind: 's3', settings, lockStrategy, inherited: false };
  }
  const fs = section.table('fs')!;
  const blobFs = blobStore.kind === 'fs' ? blobStore : undefined;
  const config: MetadataStoreConfig = {
    kind: 'fs',
    rootDir: requireRootDir(fs, blobFs?.rootDir),
    syncToDisk: fs.bool('sync_to_disk') ?? blobFs?.syncToDisk ?? false,
    lockStrategy: readLockStrategy(fs, 'fs'),
  };
  fs.finish();
  section.finish();
  return config;
}
