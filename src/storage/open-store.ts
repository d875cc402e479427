import type { S3Settings } from '../config/types.ts';
import { FsObjectStore, type FsMemory } from './fs/fs-object-store.ts';
import type { ObjectStore } from './object-store.ts';
import type { S3ObjectStore } from './s3/s3-object-store.ts';

/** The store behind `[blob_store.fs]` / `[metadata_store.fs]`. */
export function openFsStore(rootDir: string, syncToDisk: boolean, memory?: FsMemory): ObjectStore {
  return new FsObjectStore({ rootDir, syncToDisk, ...(memory ? { memory } : {}) });
}

/**
 * The store behind `[blob_store.s3]` / `[metadata_store.s3]` (`config.blobStore.settings`); `table` names that table
 * in its messages. Loaded on demand: the AWS SDK costs memory a filesystem registry never needs.
 */
export async function openS3Store(settings: S3Settings, table = 'blob_store.s3'): Promise<S3ObjectStore> {
  const { S3ObjectStore } = await import('./s3/s3-object-store.ts');
  return new S3ObjectStore(settings, table);
}
