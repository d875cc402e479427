// The fenced collector (docs/storage.md, "Garbage collection"): the only code that deletes blob bytes. It runs beside
// live servers; a run marker plus a re-check after writing it keeps it from deleting bytes a writer has just
// referenced (the writer side is src/registry/gc-fence.ts).
import { randomUUID } from 'node:crypto';
import type { Digest } from '../oci/digest.ts';
import type { RunMarker } from '../registry/gc-fence.ts';
import { listAll } from '../registry/json-record.ts';
import type { Namespace } from '../oci/name.ts';
import { blobKeys, gcKeys, refKeys, type Link } from '../registry/keys.ts';
import { isNotFound, type ObjectMeta } from '../storage/object-store.ts';
import { keyTime } from './revision-state.ts';
import type { Applied } from './actions.ts';
import type { MaintenanceContext } from './context.ts';
import { olderThan } from './context.ts';

/** Why a digest's bytes stay, or that they are gone already. */
export type Liveness =
  | { live: false; size: number }
  | { live: true; reason: 'absent' | 'young bytes' | 'owned' | 'referenced' | 'young key' | 'unparsable key' };

/** Marker lifetime: covers the run of one digest with room to spare, and rescues writers from a crashed collector. */
function markerTtlMs(context: MaintenanceContext): number {
  return Math.max(2 * context.graceMs, 60_000);
}

/**
 * Liveness of D: bytes younger than grace; or any `!own`; or any other key that is younger than grace (or has no
 * time), does not parse, or is backed by live metadata. Reads bypass every cache (the fresh view, `head`).
 */
export async function liveness(context: MaintenanceContext, digest: Digest): Promise<Liveness> {
  let bytes: ObjectMeta;
  try {
    bytes = await context.blobStore.head(blobKeys.data(digest));
  } catch (err) {
    if (isNotFound(err)) return { live: true, reason: 'absent' };
    throw err;
  }
  if (!olderThan(context, bytes.lastModified)) return { live: true, reason: 'young bytes' };
  const keys = await listAll(context.metaStore, refKeys.digest(digest));
  const parsed = keys.map((key) => ({ key, ref: refKeys.parse(digest, key) }));
  if (parsed.some(({ ref }) => ref?.link.kind === 'own')) return { live: true, reason: 'owned' };
  for (const { key, ref } of parsed) {
    if (ref === undefined) return { live: true, reason: 'unparsable key' };
    if (await context.registry.access.isBacked(ref.ns, digest, ref.link)) return { live: true, reason: 'referenced' };
    // A key deleted meanwhile holds nothing; an untimed one is young.
    const at = await keyTime(context.metaStore, key);
    if (at !== null && !olderThan(context, at)) return { live: true, reason: 'young key' };
  }
  return { live: false, size: bytes.size };
}

/**
 * Runs `work` while a run marker covers D: writes the marker (atomic create), re-reads it and extends it, runs
 * `work`, then deletes the marker. A writer that wrote its keys on D before `work` re-checked is seen by it; one that
 * writes them later sees the marker and, once it is gone, writes them again (src/registry/gc-fence.ts). Resolves
 * with what `work` returned, or undefined when the marker was lost and nothing was done.
 */
export async function underMarker<T>(context: MaintenanceContext, digest: Digest, work: () => Promise<T | undefined>): Promise<T | undefined> {
  const { metaStore } = context;
  const instance = randomUUID();
  const key = gcKeys.marker(instance);
  const marker = (): RunMarker => ({ start: digest, end: digest, expires_at: new Date(context.now() + markerTtlMs(context)).toISOString(), instance });
  if (!(await metaStore.createIfAbsent(key, JSON.stringify(marker())))) throw new Error(`run marker ${key} already exists`);
  try {
    if (!(await stillOurs(context, key, instance))) return undefined;
    await metaStore.put(key, JSON.stringify(marker()));
    return await work();
  } finally {
    // The markers folder stays: the next digest's marker needs it at once.
    await metaStore.delete(key, { keep: gcKeys.root });
  }
}

/**
 * Deletes D's reference keys, then its bytes, if D is still not live under a run marker. Resolves with the bytes
 * reclaimed, or undefined when D turned out live (or the marker was lost) and nothing was deleted. Keys go first: an
 * upload that finds the bytes gone stores its own copy and grants it, and that grant must not be among the keys
 * deleted after it; bytes left without keys by a failure here are reclaimed by the next run.
 */
export function reclaim(context: MaintenanceContext, digest: Digest): Promise<number | undefined> {
  return underMarker(context, digest, async () => {
    const now = await liveness(context, digest);
    if (now.live) return undefined;
    await context.metaStore.deletePrefix(refKeys.digest(digest));
    await context.blobStore.delete(blobKeys.data(digest));
    return now.size;
  });
}

/**
 * Deletes one reference key of N on D if `stillStale` holds under a run marker: a push that re-writes the key at that
 * moment is either seen by the re-check or writes it again after the marker (the collector's own rule, for keys).
 */
export async function dropReference(context: MaintenanceContext, ns: Namespace, digest: Digest, link: Link, stillStale: () => Promise<boolean>): Promise<Applied> {
  const dropped = await underMarker(context, digest, async () => {
    if (!(await stillStale())) return undefined;
    await context.registry.metadata.writes.dropReference(ns, digest, link);
    return true;
  });
  return dropped ? 'applied' : 'skipped';
}

/** Whether the marker is still this run's and unexpired: a lost or expired marker no longer fences writers. */
async function stillOurs(context: MaintenanceContext, key: string, instance: string): Promise<boolean> {
  let stored: Partial<RunMarker>;
  try {
    stored = JSON.parse((await context.metaStore.get(key)).toString('utf8')) as Partial<RunMarker>;
  } catch (err) {
    if (isNotFound(err) || err instanceof SyntaxError) return false;
    throw err;
  }
  const expiresAt = Date.parse(String(stored.expires_at));
  return stored.instance === instance && !Number.isNaN(expiresAt) && expiresAt > context.now();
}
