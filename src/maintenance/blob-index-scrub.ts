// `scrub --reconcile-blob-index` (docs/operations.md, "scrub checks"): per revision record older than grace, every
// reference key its push writes is re-issued when missing (the manifest's `rev`, `tag.<t>` for each tag set to it,
// `sub.<s>`, and `<manifest>` on each config, layer or child), only where the bytes exist and the namespace already
// reads the digest, so it never grants access. Additive; reads every manifest body of the namespace.
import { logger } from '../observability/logging.ts';
import type { Digest } from '../oci/digest.ts';
import { manifestReferences } from '../oci/manifest.ts';
import type { Namespace } from '../oci/name.ts';
import type { Tag } from '../oci/tag.ts';
import type { Link } from '../registry/keys.ts';
import type { MaintenanceContext } from './context.ts';
import { restoreReference } from './reference-restore.ts';
import { bytesExist, oldRevision, readManifest, readRecord, revisionDigests } from './revision-state.ts';
import type { NamespaceCheck } from './scrub.ts';

const log = logger('angos::maintenance::scrub');

export const reconcileBlobIndexCheck: NamespaceCheck = {
  flag: '--reconcile-blob-index',
  run: async (context, ns) => {
    const tagsOn = new Map<Digest, Tag[]>();
    for await (const { tag, winner } of context.registry.metadata.fresh.tagWinners(ns)) {
      if (winner.action === 'set') tagsOn.set(winner.digest, [...(tagsOn.get(winner.digest) ?? []), tag]);
    }
    for (const digest of await revisionDigests(context, ns)) {
      try {
        await reconcileRevision(context, ns, digest, tagsOn.get(digest) ?? []);
      } catch (err) {
        context.actions.failed(`reconcile the reference keys of '${ns}@${digest}'`, err);
      }
    }
  },
};

async function reconcileRevision(context: MaintenanceContext, ns: Namespace, digest: Digest, tags: readonly Tag[]): Promise<void> {
  const { blobStore, registry } = context;
  if (!(await oldRevision(context, ns, digest))) return;
  const record = await readRecord(context, ns, digest);
  if (record.kind === 'absent') return;
  const body = await readManifest(blobStore, digest, record.kind === 'parsed' ? record.fields.mediaType : undefined);
  if (body.kind !== 'parsed') {
    log.warn('revision manifest body is missing or does not parse; its reference keys are not reconciled', { namespace: ns, digest });
    return;
  }
  const revisionStands = async () => (await readRecord(context, ns, digest)).kind !== 'absent' && (await bytesExist(blobStore, digest));
  const own: Link[] = [{ kind: 'rev' }, ...tags.map((tag): Link => ({ kind: 'tag', tag }))];
  const subject = body.manifest.subject?.digest;
  if (subject !== undefined) own.push({ kind: 'sub', subject });
  for (const link of own) {
    const justified =
      link.kind === 'tag'
        ? async () => {
            const winner = await registry.metadata.fresh.tagWinner(ns, link.tag);
            return winner?.action === 'set' && winner.digest === digest && (await revisionStands());
          }
        : revisionStands;
    await restoreReference(context, ns, digest, link, justified);
  }
  for (const blob of new Set(manifestReferences(body.manifest).map(({ digest: d }) => d))) {
    await restoreReference(context, ns, blob, { kind: 'manifest', manifest: digest }, async () => {
      return (await revisionStands()) && (await bytesExist(blobStore, blob)) && (await registry.access.canRead(ns, blob));
    });
  }
}
