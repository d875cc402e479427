import { FsObjectStore } from './fs/fs-object-store.ts';
import type { ObjectStore } from './object-store.ts';

/** The store behind `[blob_store.fs]` / `[metadata_store.fs]`. */
export function openFsStore(rootDir: string, syncToDisk: boolean): ObjectStore {
  return new FsObjectStore({ rootDir, syncToDisk });
}
