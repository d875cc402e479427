import { FsObjectStore } from './fs/fs-object-store.ts';
import type { ObjectStore } from './object-store.ts';
import type { S3ObjectStore } from './s3/s3-object-store.ts';

/** The store behind `[blob_store.fs]` / `[metadata_store.fs]`. */
export function openFsStore(rootDir: string, syncToDisk: boolean): ObjectStore {
  return new FsObjectStore({ rootDir, syncToDisk });
}

/**
 * The store behind `[blob_store.s3]` / `[metadata_store.s3]`, from the raw table (`config.blobStore.settings`);
 * `path` names the table in errors. Loaded on demand: the AWS SDK costs memory a filesystem registry never needs.
 */
export async function openS3Store(settings: Record<string, unknown>, path = 'blob_store.s3'): Promise<S3ObjectStore> {
  const [{ S3ObjectStore }, { parseS3Options }] = await Promise.all([import('./s3/s3-object-store.ts'), import('./s3/s3-options.ts')]);
  return new S3ObjectStore(parseS3Options(settings, path));
}
