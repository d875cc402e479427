// Lock-era keys of a metadata store table (docs/configuration.md, "Deprecated keys"): `lock_strategy` (with its
// `redis`/`s3` sub-tables) and the older bare `redis` table. The registry takes no locks: writes are lock-free and
// the job queue's claims use the metadata store's atomic create (docs/operations.md, "Job queue"). A configuration
// that still sets them loads as it is, with one deprecation warning per key; nothing under them is read.
import type { TableReader } from './table-reader.ts';

const LOCK_ERA_KEYS = ['lock_strategy', 'redis'] as const;

export function ignoreLockEraKeys(store: TableReader): void {
  for (const key of LOCK_ERA_KEYS) {
    if (!store.has(key)) continue;
    store.raw(key);
    store.warn(`${store.pathOf(key)} is deprecated and ignored: the registry needs no lock service (job claims use the metadata store's atomic create)`);
  }
}
