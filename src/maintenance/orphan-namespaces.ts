// `scrub --orphan-namespaces` (docs/operations.md, "scrub checks"): namespaces no configured repository owns are
// emptied (revisions and tags through the registry's delete paths, so events fire; upload sessions; ownership
// grants), and the layer and config bytes only they held go to the collector. Manifest bytes carry no grant: the
// `--blobs` pass of the same run, which comes later, reclaims them.
import { owningRepository } from '../config/repository-lookup.ts';
import { logger } from '../observability/logging.ts';
import type { Digest } from '../oci/digest.ts';
import type { Namespace } from '../oci/name.ts';
import type { Tag } from '../oci/tag.ts';
import { tagKeys, type TagEvent } from '../registry/keys.ts';
import { cataloguedNamespaces } from './catalog-walk.ts';
import type { MaintenanceContext } from './context.ts';
import { GcTally } from './gc-tally.ts';
import { revokeGrants } from './orphan-grants.ts';
import { deleteByDigest, oldKey, oldRevision, revisionDigests, SCRUB_ACTOR } from './revision-state.ts';
import type { StoreCheck } from './scrub.ts';
import { uploadNamespaces } from './upload-scrub.ts';

const log = logger('angos::maintenance::scrub');

/** The subject suffix of every action of this check: it says why, beside what. */
const WHY = '(orphan namespace)';

export const orphanNamespacesCheck: StoreCheck = {
  flag: '--orphan-namespaces',
  run: async (context) => {
    // With no repository every namespace would be an orphan: a configuration mistake must not empty the registry.
    if (context.config.repositories.length === 0) {
      log.warn('--orphan-namespaces: no repository is configured, so every namespace would count as orphaned; nothing deleted');
      return;
    }
    for await (const ns of cataloguedNamespaces(context)) {
      if (!isOrphan(context, ns)) continue;
      try {
        await emptyNamespace(context, ns);
      } catch (err) {
        context.actions.failed(`empty orphan namespace '${ns}'`, err);
      }
    }
    for (const ns of await uploadNamespaces(context)) {
      if (!isOrphan(context, ns)) continue;
      try {
        await dropSessions(context, ns);
      } catch (err) {
        context.actions.failed(`delete the uploads of orphan namespace '${ns}'`, err);
      }
    }
    // Grants of an emptied namespace: revoked unless one of its manifests references the blob again.
    const tally = new GcTally('scrub');
    await revokeGrants(context, tally, { kind: 'revoke blob-ownership grant', reason: WHY, ageMs: 0, namespaces: (ns) => isOrphan(context, ns) });
    tally.finish(context.actions.dryRun);
  },
};

function isOrphan(context: MaintenanceContext, ns: string): boolean {
  return owningRepository(context.config, ns) === undefined;
}

/**
 * Every revision older than grace deleted by digest (index children and referrers too: nothing here protects
 * them), then the tags still live: on a revision too young to delete, or set meanwhile. What is younger than grace
 * may be a push in progress, and is left for the next run.
 */
async function emptyNamespace(context: MaintenanceContext, ns: Namespace): Promise<void> {
  const deleted = new Set<Digest>();
  for (const digest of await revisionDigests(context, ns)) {
    if (!(await oldRevision(context, ns, digest))) continue;
    const outcome = await context.actions.run('delete revision', `'${ns}@${digest}' ${WHY}`, async () => {
      if (!(await oldRevision(context, ns, digest))) return 'skipped';
      await deleteByDigest(context, ns, digest);
      return 'applied';
    });
    if (outcome === 'applied') deleted.add(digest);
  }
  // A dry run deleted nothing: the tags of the revisions it would delete go with them, so they are not listed again.
  const fresh = context.registry.metadata.fresh;
  const revision = await fresh.revisions(ns);
  const live: Array<{ tag: Tag; winner: TagEvent }> = [];
  for await (const { tag, winner } of fresh.tagWinners(ns)) {
    if (winner.action === 'set' && !deleted.has(winner.digest) && (await revision(winner.digest)) !== undefined) live.push({ tag, winner });
  }
  for (const { tag, winner } of live) {
    const due = async (): Promise<boolean> => {
      const now = await fresh.tagWinner(ns, tag);
      if (now?.action !== 'set' || now.ord !== winner.ord || now.digest !== winner.digest) return false;
      if ((await (await fresh.revisions(ns))(winner.digest)) === undefined) return false;
      return oldKey(context, context.metaStore, tagKeys.event(ns, tag, winner));
    };
    if (!(await due())) continue;
    await context.actions.run('delete tag', `'${ns}:${tag}' ${WHY}`, async () => {
      if (!(await due())) return 'skipped';
      await context.registry.manifests.deleteTag(ns, tag, SCRUB_ACTOR);
      return 'applied';
    });
  }
}

/** Every upload session of the namespace, whatever its age: nothing may complete into an orphan namespace. */
async function dropSessions(context: MaintenanceContext, ns: Namespace): Promise<void> {
  const { uploadListing, uploads } = context.registry;
  for (const id of await uploadListing.sessionIds(ns)) {
    await context.actions.run('delete upload', `'${ns}/${id}' ${WHY}`, async () => {
      if (!(await uploadListing.sessionIds(ns)).includes(id)) return 'skipped';
      await uploads.cancel(ns, id);
      return 'applied';
    });
  }
}
