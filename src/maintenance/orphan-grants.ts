// `scrub --orphan-grants <dur>` and the server's background revocation (docs/operations.md, "Background
// maintenance"): ownership grants no manifest of their namespace references, once old enough, are revoked through
// the blob-delete path (a `blob-deleted` event fires), and the bytes they pinned are offered to the collector.
import type { Digest } from '../oci/digest.ts';
import type { Namespace } from '../oci/name.ts';
import { isRegistryError } from '../registry/errors.ts';
import { refKeys } from '../registry/keys.ts';
import { collectOne } from './blob-scrub.ts';
import { olderThan, type MaintenanceContext } from './context.ts';
import { referenceGroups } from './digest-walk.ts';
import { GcTally } from './gc-tally.ts';
import { keyTime } from './revision-state.ts';
import type { StoreCheck } from './scrub.ts';

export const orphanGrantsCheck: StoreCheck = {
  flag: '--orphan-grants',
  run: async (context, options) => {
    const tally = new GcTally('scrub');
    await revokeOrphanGrants(context, options.orphanGrantsOlderThanMs!, tally);
    tally.finish(context.actions.dryRun);
  },
};

/** Every grant older than max(`ageMs`, grace) that nothing of its namespace backs: revoked, then the bytes collected. */
export function revokeOrphanGrants(context: MaintenanceContext, ageMs: number, tally: GcTally): Promise<void> {
  return revokeGrants(context, tally, { kind: 'revoke orphaned blob-ownership grant', ageMs });
}

/** Which grants a pass revokes, and how its actions are named. */
export interface GrantSelection {
  kind: string;
  /** Appended to each action's subject (why, beside what). */
  reason?: string;
  /** Grants younger than max(this, grace) stay. */
  ageMs: number;
  /** Namespaces whose grants are candidates; all when absent. */
  namespaces?: (ns: Namespace) => boolean;
}

/**
 * Every selected grant old enough that no manifest of its namespace references the blob is revoked through the
 * blob-delete path, judged again when applied; each digest that lost one is then offered to the collector, which
 * keeps the bytes while any other namespace holds them. A dry run revokes nothing, so it previews no reclamation.
 */
export async function revokeGrants(context: MaintenanceContext, tally: GcTally, selection: GrantSelection): Promise<void> {
  for await (const { digest, keys } of referenceGroups(context.metaStore)) {
    const revokeThenCollect = async () => {
      if ((await revokeDigestGrants(context, digest, keys, selection, tally)).revoked && !context.actions.dryRun) await collectOne(context, digest, tally);
    };
    await (context.pace === undefined ? revokeThenCollect() : context.pace.run(revokeThenCollect));
  }
}

/**
 * The selected grants among `keys` (reference keys of D) revoked as above. `revoked`: one was; `young`: one nothing
 * references was kept only for being younger than the age.
 */
export async function revokeDigestGrants(
  context: MaintenanceContext,
  digest: Digest,
  keys: readonly string[],
  selection: GrantSelection,
  tally: GcTally,
): Promise<{ revoked: boolean; young: boolean }> {
  const found = { revoked: false, young: false };
  for (const key of keys) {
    const ref = refKeys.parse(digest, key);
    if (ref?.link.kind !== 'own' || selection.namespaces?.(ref.ns) === false) continue;
    try {
      const outcome = await revokeIfOrphan(context, ref.ns, digest, key, selection, tally);
      if (outcome === 'revoked') found.revoked = true;
      if (outcome === 'young') found.young = true;
    } catch (err) {
      tally.errors++;
      context.actions.failed(`check grant '${ref.ns}/${digest}'`, err);
    }
  }
  return found;
}

async function revokeIfOrphan(context: MaintenanceContext, ns: Namespace, digest: Digest, key: string, selection: GrantSelection, tally: GcTally): Promise<'revoked' | 'young' | 'kept'> {
  const unreferenced = async () => !(await context.registry.access.referencedByLiveManifest(ns, digest, true));
  const old = async () => olderThan(context, (await keyTime(context.metaStore, key)) ?? undefined, Math.max(selection.ageMs, context.graceMs));
  if (!(await old())) return (await unreferenced()) ? 'young' : 'kept';
  if (!(await unreferenced())) return 'kept';
  const subject = `'${ns}/${digest}'${selection.reason === undefined ? '' : ` ${selection.reason}`}`;
  const outcome = await context.actions.run(selection.kind, subject, async () => {
    if (!(await old()) || !(await unreferenced())) return 'skipped';
    try {
      await context.registry.blobs.delete(ns, digest, { internal: 'gc' });
    } catch (err) {
      if (isRegistryError(err, 'blob-still-referenced') || isRegistryError(err, 'blob-unknown')) return 'skipped';
      throw err;
    }
    return 'applied';
  });
  if (outcome === 'applied') tally.grantsRevoked++;
  if (outcome === 'failed') tally.errors++;
  return outcome === 'applied' ? 'revoked' : 'kept';
}
