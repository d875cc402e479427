// `scrub --media-types` (docs/operations.md, "scrub checks"): a revision record or a tag's winning event older than
// grace that lacks a media type gets the one its manifest body declares, else the one the body's shape implies; the
// rest of the record is kept as it is. A record whose manifest bytes are gone is deleted by digest instead.
import type { Digest } from '../oci/digest.ts';
import { isMediaType } from '../oci/media-type.ts';
import type { Namespace } from '../oci/name.ts';
import type { Tag } from '../oci/tag.ts';
import { revisionKeys, tagKeys, type TagEvent } from '../registry/keys.ts';
import type { RevisionRecord, TagEventBody } from '../registry/metadata/records.ts';
import type { MaintenanceContext } from './context.ts';
import { bodyToRepairFrom, keyTime, oldKey, oldRevision, parseObject, readManifest, readRecord, readText, revisionDigests } from './revision-state.ts';
import type { NamespaceCheck } from './scrub.ts';

export const mediaTypesCheck: NamespaceCheck = {
  flag: '--media-types',
  run: async (context, ns) => {
    for (const digest of await revisionDigests(context, ns)) {
      try {
        await backfillRevision(context, ns, digest);
      } catch (err) {
        context.actions.failed(`check the media type of '${ns}@${digest}'`, err);
      }
    }
    for await (const { tag, winner } of context.registry.metadata.fresh.tagWinners(ns)) {
      try {
        await backfillTagWinner(context, ns, tag, winner);
      } catch (err) {
        context.actions.failed(`check the media type of '${ns}:${tag}'`, err);
      }
    }
  },
};

/** A parsed record without a valid media type (one that does not parse is `--links`' to rewrite). */
async function lacksMediaType(context: MaintenanceContext, ns: Namespace, digest: Digest) {
  const record = await readRecord(context, ns, digest);
  return record.kind === 'parsed' && record.fields.mediaType === undefined ? record : undefined;
}

async function backfillRevision(context: MaintenanceContext, ns: Namespace, digest: Digest): Promise<void> {
  const { blobStore } = context;
  if (!(await oldRevision(context, ns, digest)) || (await lacksMediaType(context, ns, digest)) === undefined) return;
  const body = await bodyToRepairFrom(context, ns, digest, await readManifest(blobStore, digest), 'revision record lacks a media type and its manifest body does not parse; left alone');
  if (body === undefined) return;
  await context.actions.run('backfill media type of revision', `'${ns}@${digest}' (${body.mediaType})`, async () => {
    const record = await lacksMediaType(context, ns, digest);
    if (record === undefined) return 'skipped';
    const createdAt = record.fields.createdAt ?? ((await keyTime(context.metaStore, revisionKeys.revision(ns, digest))) ?? new Date(context.now())).toISOString();
    const rewritten = { ...record.raw, media_type: body.mediaType, size: record.fields.size ?? body.bytes.length, created_at: createdAt } as RevisionRecord;
    await context.registry.metadata.writes.putRevision(ns, digest, rewritten);
    return 'applied';
  });
}

/** The winning event's body when it lacks a media type (a body that does not parse counts as an empty one). */
async function eventLackingMediaType(context: MaintenanceContext, key: string): Promise<Record<string, unknown> | undefined> {
  const text = await readText(context.metaStore, key);
  if (text === undefined) return undefined;
  const json = parseObject(text) ?? {};
  return typeof json.media_type === 'string' && isMediaType(json.media_type) ? undefined : json;
}

async function backfillTagWinner(context: MaintenanceContext, ns: Namespace, tag: Tag, winner: TagEvent): Promise<void> {
  const key = tagKeys.event(ns, tag, winner);
  if (!(await oldKey(context, context.metaStore, key)) || (await eventLackingMediaType(context, key)) === undefined) return;
  // Missing bytes behind a `set` are `--tags`' to handle; a `del` whose manifest is gone keeps its body.
  const body = await readManifest(context.blobStore, winner.digest);
  if (body.kind !== 'parsed') return;
  await context.actions.run('backfill media type of tag', `'${ns}:${tag}' (${body.mediaType})`, async () => {
    const current = await eventLackingMediaType(context, key);
    if (current === undefined) return 'skipped';
    const size = typeof current.size === 'number' ? current.size : body.bytes.length;
    // The same key rewritten with the same content plus the missing fields (docs/storage.md, "Tags").
    await context.registry.metadata.writes.appendTagEvent(ns, tag, winner, { ...current, media_type: body.mediaType, size } as TagEventBody);
    return 'applied';
  });
}
