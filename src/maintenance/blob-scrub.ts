// `scrub --blobs` and the server's background collection (docs/operations.md, "Background maintenance"): every digest
// with bytes or reference keys, in digest order; stale keys dropped, bytes no namespace holds reclaimed.
import { owningRepository } from '../config/repository-lookup.ts';
import { logger } from '../observability/logging.ts';
import type { Digest } from '../oci/digest.ts';
import { refKeys } from '../registry/keys.ts';
import { dropReference, liveness, reclaim } from './collector.ts';
import { olderThan, type MaintenanceContext } from './context.ts';
import { digestEntries, type DigestEntry } from './digest-walk.ts';
import { GcTally } from './gc-tally.ts';
import { forEachPaced } from './pace.ts';
import { bytesExist, keyTime } from './revision-state.ts';
import type { StoreCheck } from './scrub.ts';

const log = logger('angos::maintenance::gc');

/** Digests examined at once: each is a handful of small reads, so a few in flight hide the store's latency. */
const PARALLEL_DIGESTS = 8;

export const blobsCheck: StoreCheck = {
  flag: '--blobs',
  run: async (context) => {
    const tally = new GcTally('scrub');
    await collectBlobs(context, tally);
    tally.finish(context.actions.dryRun);
  },
};

/** The collector pass over every digest; counts go to `tally`. */
export async function collectBlobs(context: MaintenanceContext, tally: GcTally): Promise<void> {
  const batch: DigestEntry[] = [];
  const flush = async () => {
    await forEachPaced(context.pace, batch.splice(0), PARALLEL_DIGESTS, (entry) => examine(context, entry, tally));
  };
  for await (const entry of digestEntries(context)) {
    batch.push(entry);
    if (batch.length >= PARALLEL_DIGESTS * 4) await flush();
  }
  await flush();
}

async function examine(context: MaintenanceContext, entry: DigestEntry, tally: GcTally): Promise<void> {
  try {
    await dropStaleKeys(context, entry, await bytesExist(context.blobStore, entry.digest));
  } catch (err) {
    tally.errors++;
    context.actions.failed(`check reference keys of '${entry.digest}'`, err);
  }
  await collectOne(context, entry.digest, tally);
}

/**
 * Offers one digest to the collector, as `--blobs` would. Resolves true when the bytes stayed only because something
 * was still too young: a later run may reclaim them.
 */
export async function collectOne(context: MaintenanceContext, digest: Digest, tally: GcTally): Promise<boolean> {
  tally.examined++;
  try {
    const state = await liveness(context, digest);
    if (state.live) {
      if (state.reason !== 'absent') tally.live++;
      return state.reason === 'young bytes' || state.reason === 'young key';
    }
    let size = 0;
    const outcome = await context.actions.run('delete orphan blob', `'${digest}'`, async () => {
      const reclaimed = await reclaim(context, digest);
      if (reclaimed === undefined) return 'skipped';
      size = reclaimed;
      return 'applied';
    });
    if (outcome === 'applied') {
      tally.reclaimed++;
      tally.bytes += size;
    } else if (outcome === 'skipped') tally.live++;
    else tally.errors++;
  } catch (err) {
    tally.errors++;
    context.actions.failed(`collect blob '${digest}'`, err);
  }
  return false;
}

/**
 * Reference keys that no longer mean anything, older than grace: non-own keys no live metadata backs (stale entries,
 * vanished namespaces) and, where the bytes are gone, every key including grants, except in pull-through
 * namespaces, whose bytes arrive lazily. Keys whose name does not parse are reported, never deleted.
 */
async function dropStaleKeys(context: MaintenanceContext, entry: DigestEntry, bytesPresent: boolean): Promise<void> {
  const { digest } = entry;
  for (const key of entry.keys) {
    const ref = refKeys.parse(digest, key);
    if (ref === undefined) {
      log.warn('reference key does not parse; left alone', { key });
      continue;
    }
    if (bytesPresent && ref.link.kind === 'own') continue;
    if (!bytesPresent && (owningRepository(context.config, ref.ns)?.upstreams.length ?? 0) > 0) continue;
    // Judged again at apply time: bytes may have arrived, or a push may have backed the key meanwhile.
    const stale = async (): Promise<boolean> => {
      if ((await bytesExist(context.blobStore, digest)) && (ref.link.kind === 'own' || (await context.registry.access.isBacked(ref.ns, digest, ref.link)))) return false;
      return olderThan(context, (await keyTime(context.metaStore, key)) ?? undefined);
    };
    if (!(await stale())) continue;
    const kind = bytesPresent ? 'delete stale reference key' : 'delete byteless reference key';
    await context.actions.run(kind, `'${key}'`, () => dropReference(context, ref.ns, digest, ref.link, stale));
  }
}
