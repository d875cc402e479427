export * from './object-store.ts';
export { FsObjectStore, type FsObjectStoreOptions } from './fs/fs-object-store.ts';
export { openFsStore } from './open-store.ts';
