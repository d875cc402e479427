import { setTimeout as sleep } from 'node:timers/promises';
import type { Digest } from '../oci/digest.ts';
import { RegistryError } from './errors.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { isNotFound } from '../storage/object-store.ts';
import { listAll } from './json-record.ts';
import { gcKeys } from './keys.ts';

/** A collector run marker (docs/storage.md, "Garbage collection"): the collector may be deleting bytes of digests in [start, end]. */
export interface RunMarker {
  start: string;
  end: string;
  expires_at: string;
  instance: string;
}

const ATTEMPTS = 5;

/**
 * The writer side of the GC fence (docs/storage.md, "Garbage collection"). Called after a writer's reference keys are stored: either
 * the collector's re-check sees those keys (and spares the bytes), or the writer sees the collector's marker here
 * and backs off. Still blocked after the retries ⇒ 503 RECLAMATION_IN_PROGRESS. Resolves true when it had to wait:
 * the collector may then have deleted the bytes and, with them, the keys the writer had written, so the writer must
 * write them again and check the bytes before it goes on.
 */
export async function awaitNoReclamation(meta: ObjectStore, digests: readonly Digest[]): Promise<boolean> {
  if (digests.length === 0) return false;
  let delay = 50;
  for (let attempt = 1; ; attempt++) {
    if (!(await isBlocked(meta, digests))) return attempt > 1;
    if (attempt === ATTEMPTS) {
      throw new RegistryError('reclamation-in-progress', 'blob is being reclaimed; retry');
    }
    await sleep(delay / 2 + Math.random() * (delay / 2));
    delay = Math.min(delay * 2, 800);
  }
}

async function isBlocked(meta: ObjectStore, digests: readonly Digest[]): Promise<boolean> {
  const now = Date.now();
  for (const key of await listAll(meta, gcKeys.root)) {
    let marker: RunMarker;
    try {
      marker = JSON.parse((await meta.get(key)).toString('utf8')) as RunMarker;
    } catch (err) {
      if (isNotFound(err)) continue;
      return true; // an unreadable marker fails closed
    }
    const expiresAt = Date.parse(marker.expires_at);
    if (typeof marker.start !== 'string' || typeof marker.end !== 'string' || Number.isNaN(expiresAt)) return true;
    if (expiresAt <= now) continue;
    if (digests.some((digest) => marker.start <= digest && digest <= marker.end)) return true;
  }
  return false;
}
