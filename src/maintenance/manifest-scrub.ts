// `scrub --manifests` (docs/operations.md, "scrub checks"): per revision record older than grace, the keys a push
// writes with it are restored when missing: the manifest's `rev` reference key, and for a manifest with a subject its
// `sub.<s>` key and referrer record; then the catalog key, and superseded by-digest pulls are collected. A body that
// is missing or does not parse is reported and left to `--links`.
import { logger } from '../observability/logging.ts';
import type { Digest } from '../oci/digest.ts';
import { referrerDescriptor } from '../oci/manifest.ts';
import type { Namespace } from '../oci/name.ts';
import { exists } from '../registry/json-record.ts';
import { catalogKeys, referrerKeys } from '../registry/keys.ts';
import type { MaintenanceContext } from './context.ts';
import { collectSupersededPulls } from './pull-collection.ts';
import { restoreReference } from './reference-restore.ts';
import { oldRevision, readManifest, readRecord, revisionDigests } from './revision-state.ts';
import type { NamespaceCheck } from './scrub.ts';

const log = logger('angos::maintenance::scrub');

export const manifestsCheck: NamespaceCheck = {
  flag: '--manifests',
  run: async (context, ns) => {
    // The catalog key is written after the record (wave 3): only a record older than grace proves it missing.
    let holdsOldRevision = false;
    for (const digest of await revisionDigests(context, ns)) {
      try {
        if (!(await oldRevision(context, ns, digest))) continue;
        holdsOldRevision = true;
        await repairRevision(context, ns, digest);
      } catch (err) {
        context.actions.failed(`check revision '${ns}@${digest}'`, err);
      }
    }
    if (holdsOldRevision) await restoreCatalogKey(context, ns);
    await collectSupersededPulls(context, ns, 'revision');
  },
};

/** One revision record older than grace. */
async function repairRevision(context: MaintenanceContext, ns: Namespace, digest: Digest): Promise<void> {
  const record = await readRecord(context, ns, digest);
  if (record.kind === 'absent') return;
  const body = await readManifest(context.blobStore, digest, record.kind === 'parsed' ? record.fields.mediaType : undefined);
  if (body.kind !== 'parsed') {
    log.warn(`revision's manifest body is ${body.kind === 'missing' ? 'missing' : 'unparsable'}; skipped (--links repairs it)`, { namespace: ns, digest });
    return;
  }
  const revisionStands = async () => (await readRecord(context, ns, digest)).kind !== 'absent';
  await restoreReference(context, ns, digest, { kind: 'rev' }, revisionStands);
  const subject = body.manifest.subject?.digest;
  if (subject === undefined) return;
  // In push order: the `sub.<s>` key (wave 1) before the referrer record (wave 3).
  await restoreReference(context, ns, digest, { kind: 'sub', subject }, revisionStands);
  if (await exists(context.metaStore, referrerKeys.record(ns, subject, digest))) return;
  await context.actions.run('restore referrer record', `'${ns}@${subject}' referrer '${digest}'`, async () => {
    if (!(await revisionStands()) || (await exists(context.metaStore, referrerKeys.record(ns, subject, digest)))) return 'skipped';
    await context.registry.metadata.writes.putReferrer(ns, subject, digest, referrerDescriptor(body.manifest, digest, body.bytes.length));
    return 'applied';
  });
}

/** The namespace's catalog key, for a namespace that holds revisions (it is how the catalog finds the namespace). */
async function restoreCatalogKey(context: MaintenanceContext, ns: Namespace): Promise<void> {
  if (await exists(context.metaStore, catalogKeys.entry(ns))) return;
  await context.actions.run('restore catalog key', `'${ns}'`, async () => {
    if (await exists(context.metaStore, catalogKeys.entry(ns))) return 'skipped';
    await context.registry.metadata.writes.restoreCatalog(ns);
    return 'applied';
  });
}
