// `scrub --links` (docs/operations.md, "scrub checks"). Per namespace, per revision record older than grace: a
// manifest whose bytes are gone is deleted by digest; a record that does not parse or disagrees with the body it
// names is rewritten from the body; each config, layer or child the namespace can already read gets back its
// `<manifest>` reference key; referrer records that do not parse or disagree with their referrer are rewritten from
// it (or deleted when the referrer names another subject). Store-wide, after every namespace: `<manifest>` keys
// whose manifest is no longer a revision of their namespace (phantom back-links) are deleted once older than grace;
// reference keys are filed by digest, so only a walk of all of them finds a namespace's.
import { logger } from '../observability/logging.ts';
import type { Digest } from '../oci/digest.ts';
import { manifestReferences, referrerDescriptor } from '../oci/manifest.ts';
import { isMediaType } from '../oci/media-type.ts';
import type { Namespace } from '../oci/name.ts';
import { exists } from '../registry/json-record.ts';
import { refKeys, referrerKeys, revisionKeys } from '../registry/keys.ts';
import { dropReference } from './collector.ts';
import type { MaintenanceContext } from './context.ts';
import { referenceGroups } from './digest-walk.ts';
import { keysUnder } from './key-listing.ts';
import { restoreReference } from './reference-restore.ts';
import { bodyToRepairFrom, bytesExist, keyTime, oldKey, parseObject, readManifest, readRecord, readText, type BodyState, type RecordState } from './revision-state.ts';
import type { NamespaceCheck, StoreCheck } from './scrub.ts';

const log = logger('angos::maintenance::scrub');
/** Revision lookups the phantom walk remembers between keys (a manifest's keys sit under each of its blobs). */
const REMEMBERED_REVISIONS = 10_000;

export const linksCheck: NamespaceCheck = {
  flag: '--links',
  run: async (context, ns) => {
    for await (const key of keysUnder(context.metaStore, revisionKeys.namespace(ns))) {
      const digest = revisionKeys.parse(ns, key);
      if (digest === undefined) {
        log.warn('revision record key names no digest; left alone', { key });
        continue;
      }
      try {
        await repairRevision(context, ns, digest);
      } catch (err) {
        context.actions.failed(`check links of '${ns}@${digest}'`, err);
      }
    }
    await repairReferrerRecords(context, ns);
  },
};

export const phantomLinksCheck: StoreCheck = {
  flag: '--links',
  run: (context) => dropPhantomBackLinks(context),
};

async function repairRevision(context: MaintenanceContext, ns: Namespace, digest: Digest): Promise<void> {
  const { blobStore } = context;
  if (!(await oldKey(context, context.metaStore, revisionKeys.revision(ns, digest)))) return;
  const record = await readRecord(context, ns, digest);
  if (record.kind === 'absent') return;
  const read = await readManifest(blobStore, digest, record.kind === 'parsed' ? record.fields.mediaType : undefined);
  const body = await bodyToRepairFrom(context, ns, digest, read, 'revision manifest body does not parse; left alone');
  if (body === undefined) return;
  const problem = disagreement(record, body);
  if (problem !== undefined) {
    await context.actions.run('rewrite revision record', `'${ns}@${digest}' (${problem})`, async () => {
      const now = await readRecord(context, ns, digest);
      if (disagreement(now, body) === undefined) return 'skipped';
      const kept = now.kind === 'parsed' ? now.fields.createdAt : undefined;
      const createdAt = kept ?? ((await keyTime(context.metaStore, revisionKeys.revision(ns, digest))) ?? new Date(context.now())).toISOString();
      await context.registry.metadata.writes.putRevision(ns, digest, { media_type: body.mediaType, size: body.bytes.length, created_at: createdAt });
      return 'applied';
    });
  }
  const revisionStands = async () => (await readRecord(context, ns, digest)).kind !== 'absent';
  for (const blob of new Set(manifestReferences(body.manifest).map(({ digest: d }) => d))) {
    // Only what the namespace can already read, and only bytes that exist: a restored key never grants access.
    await restoreReference(context, ns, blob, { kind: 'manifest', manifest: digest }, async () => {
      return (await revisionStands()) && (await bytesExist(blobStore, blob)) && (await context.registry.access.canRead(ns, blob));
    });
  }
}

/** Why a record does not describe its body, or undefined. A missing media type is `--media-types`' to fill. */
function disagreement(record: RecordState, body: Extract<BodyState, { kind: 'parsed' }>): string | undefined {
  if (record.kind === 'absent') return undefined;
  if (record.kind === 'unparsable') return 'record does not parse';
  const { size, mediaType } = record.fields;
  if (size !== undefined && size !== body.bytes.length) return `size ${size}, body has ${body.bytes.length} bytes`;
  if (mediaType !== undefined && mediaType !== body.mediaType) return `media type ${mediaType}, body declares ${body.mediaType}`;
  return undefined;
}

/**
 * Referrer records that do not parse, lack a media type (the referrers API skips them) or name another digest than
 * their key: rewritten from the referrer's body when it names the record's subject, deleted when it names another.
 * Records whose referrer is no longer a revision are `--referrers`' to delete.
 */
async function repairReferrerRecords(context: MaintenanceContext, ns: Namespace): Promise<void> {
  for await (const key of keysUnder(context.metaStore, referrerKeys.namespace(ns))) {
    const parsed = referrerKeys.parseRecord(ns, key);
    if (parsed === undefined) {
      log.warn('referrer record key does not parse; left alone', { key });
      continue;
    }
    try {
      await repairReferrerRecord(context, ns, parsed.subject, parsed.referrer, key);
    } catch (err) {
      context.actions.failed(`check referrer record '${key}'`, err);
    }
  }
}

async function repairReferrerRecord(context: MaintenanceContext, ns: Namespace, subject: Digest, referrer: Digest, key: string): Promise<void> {
  const { metaStore, registry } = context;
  const sound = async (): Promise<boolean> => {
    const text = await readText(metaStore, key);
    if (text === undefined) return true; // deleted meanwhile: nothing to repair
    const json = parseObject(text);
    return json !== undefined && typeof json.mediaType === 'string' && isMediaType(json.mediaType) && (json.digest === undefined || json.digest === referrer);
  };
  if ((await sound()) || !(await oldKey(context, metaStore, key))) return;
  const record = await readRecord(context, ns, referrer);
  if (record.kind === 'absent') return;
  const body = await readManifest(context.blobStore, referrer, record.kind === 'parsed' ? record.fields.mediaType : undefined);
  if (body.kind !== 'parsed') return;
  const described = `'${ns}@${subject}' referrer '${referrer}'`;
  if (body.manifest.subject?.digest === subject) {
    await context.actions.run('rewrite referrer record', described, async () => {
      if (await sound()) return 'skipped';
      await registry.metadata.writes.putReferrer(ns, subject, referrer, referrerDescriptor(body.manifest, referrer, body.bytes.length));
      return 'applied';
    });
  } else {
    await context.actions.run('delete referrer record', `${described} (its manifest names another subject)`, async () => {
      if (await sound()) return 'skipped';
      await registry.metadata.writes.deleteReferrer(ns, subject, referrer);
      return 'applied';
    });
  }
}

/** Every `<manifest>` reference key whose manifest has no revision record in the key's own namespace, past grace. */
async function dropPhantomBackLinks(context: MaintenanceContext): Promise<void> {
  const { metaStore } = context;
  const remembered = new Map<string, boolean>();
  const revisionExists = async (ns: Namespace, manifest: Digest): Promise<boolean> => {
    const key = revisionKeys.revision(ns, manifest);
    let found = remembered.get(key);
    if (found === undefined) {
      found = await exists(metaStore, key);
      if (remembered.size >= REMEMBERED_REVISIONS) remembered.clear();
      remembered.set(key, found);
    }
    return found;
  };
  for await (const { digest, keys } of referenceGroups(metaStore)) {
    for (const key of keys) {
      const ref = refKeys.parse(digest, key);
      if (ref?.link.kind !== 'manifest') continue;
      const { ns, link } = ref;
      try {
        if ((await revisionExists(ns, link.manifest)) || !(await oldKey(context, metaStore, key))) continue;
        // Fresh under the marker: a push of the manifest may have brought its revision back.
        const phantom = async () => !(await exists(metaStore, revisionKeys.revision(ns, link.manifest))) && (await oldKey(context, metaStore, key));
        await context.actions.run('delete phantom back-link', `'${key}'`, () => dropReference(context, ns, digest, link, phantom));
      } catch (err) {
        context.actions.failed(`check back-link '${key}'`, err);
      }
    }
  }
}
