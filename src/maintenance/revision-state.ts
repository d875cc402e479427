// What the namespace repairs of scrub read about one revision (docs/operations.md, "scrub checks"): its record and
// its manifest body straight from the stores, so damage shows as damage (a record that does not parse, a body that is
// gone) instead of failing the read, and the one delete-by-digest they share.
import { logger } from '../observability/logging.ts';
import type { Digest } from '../oci/digest.ts';
import { OciError } from '../oci/errors.ts';
import { impliedMediaType, parseManifest, type Manifest } from '../oci/manifest.ts';
import { isMediaType, OCI_MANIFEST, type MediaType } from '../oci/media-type.ts';
import type { Namespace } from '../oci/name.ts';
import type { Tag } from '../oci/tag.ts';
import type { Actor } from '../registry/events.ts';
import { blobKeys, revisionKeys } from '../registry/keys.ts';
import type { RevisionRecord } from '../registry/metadata/records.ts';
import { isNotFound, type ObjectStore } from '../storage/object-store.ts';
import { olderThan, type MaintenanceContext } from './context.ts';

const log = logger('angos::maintenance::scrub');

/** Scrub's deletes are the registry's own work: events name it as the collector. */
export const SCRUB_ACTOR: Actor = { internal: 'gc' };

/** A revision record as stored: absent, not a JSON object, or an object whose fields may be missing or malformed. */
export type RecordState = { kind: 'absent' } | { kind: 'unparsable' } | { kind: 'parsed'; fields: RecordFields; raw: Record<string, unknown> };

/** The fields of a parsed record that hold a value of the right type; the others are undefined. */
export interface RecordFields {
  mediaType?: MediaType;
  size?: number;
  createdAt?: string;
}

export async function readRecord(context: MaintenanceContext, ns: Namespace, digest: Digest): Promise<RecordState> {
  const text = await readText(context.metaStore, revisionKeys.revision(ns, digest));
  if (text === undefined) return { kind: 'absent' };
  const json = parseObject(text);
  if (json === undefined) return { kind: 'unparsable' };
  const fields: RecordFields = {};
  if (typeof json.media_type === 'string' && isMediaType(json.media_type)) fields.mediaType = json.media_type;
  if (typeof json.size === 'number' && Number.isSafeInteger(json.size) && json.size >= 0) fields.size = json.size;
  if (typeof json.created_at === 'string' && !Number.isNaN(Date.parse(json.created_at))) fields.createdAt = json.created_at;
  return { kind: 'parsed', fields, raw: json };
}

/** A small object's text, or undefined when it is absent. */
export async function readText(store: ObjectStore, key: string): Promise<string | undefined> {
  try {
    return (await store.get(key)).toString('utf8');
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** A JSON object, or undefined for anything else (bad JSON, an array, a string). */
export function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const json: unknown = JSON.parse(text);
    return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A manifest's stored body: gone, not a manifest, or parsed with the media type it is served under. */
export type BodyState =
  | { kind: 'missing' }
  | { kind: 'unparsable'; reason: string }
  | { kind: 'parsed'; bytes: Buffer; manifest: Manifest; mediaType: MediaType };

/**
 * Reads and parses a manifest body. Its media type is the one the body declares, else `hint` (what a record or a
 * tag event recorded at push), else the one its shape implies (docs/api.md, "Referrers").
 */
export async function readManifest(store: ObjectStore, digest: Digest, hint?: string): Promise<BodyState> {
  let bytes: Buffer;
  try {
    bytes = await store.get(blobKeys.data(digest));
  } catch (err) {
    if (isNotFound(err)) return { kind: 'missing' };
    throw err;
  }
  const declared = parseObject(bytes.toString('utf8'))?.mediaType;
  const known = typeof declared === 'string' && isMediaType(declared) ? declared : hint !== undefined && isMediaType(hint) ? hint : undefined;
  try {
    // A body without `mediaType` parses under any content type: OCI_MANIFEST stands for "none recorded".
    const manifest = parseManifest(bytes, known ?? OCI_MANIFEST);
    return { kind: 'parsed', bytes, manifest, mediaType: known ?? impliedMediaType(manifest) };
  } catch (err) {
    if (err instanceof OciError) return { kind: 'unparsable', reason: err.message };
    throw err;
  }
}

/** A record rebuilt from content: the body's media type and size, the given time when the old one had none. */
export function recordFrom(body: Extract<BodyState, { kind: 'parsed' }>, createdAt: string): RevisionRecord {
  return { media_type: body.mediaType, size: body.bytes.length, created_at: createdAt };
}

export async function bytesExist(store: ObjectStore, digest: Digest): Promise<boolean> {
  return (await keyTime(store, blobKeys.data(digest))) !== null;
}

/** A key's modification time: null when the key is absent, undefined when the store does not know it (young). */
export async function keyTime(store: ObjectStore, key: string): Promise<Date | undefined | null> {
  try {
    return (await store.head(key)).lastModified;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** Whether a key exists and is at least grace old (absent or untimed: no). */
export async function oldKey(context: MaintenanceContext, store: ObjectStore, key: string): Promise<boolean> {
  const at = await keyTime(store, key);
  return at !== null && olderThan(context, at);
}

/**
 * Delete-by-digest: the digest-delete waves of the registry (events fire), then a `del` for any tag still set to
 * the digest (one with no `tag.<t>` reference key, which the delete path finds its tags by). A record that does not
 * parse cannot go through the delete path, which reads it: its tags are deleted, then the record itself.
 */
export async function deleteByDigest(context: MaintenanceContext, ns: Namespace, digest: Digest): Promise<void> {
  const { registry } = context;
  const unparsable = (await readRecord(context, ns, digest)).kind === 'unparsable';
  if (!unparsable) await registry.manifests.deleteRevision(ns, digest, SCRUB_ACTOR);
  for (const tag of await tagsSetTo(context, ns, digest)) await registry.manifests.deleteTag(ns, tag, SCRUB_ACTOR);
  if (unparsable) {
    log.info('revision record does not parse: deleted without the delete path', { namespace: ns, digest });
    await registry.metadata.writes.deleteRevision(ns, digest);
  }
}

/**
 * The parsed body a revision is repaired from, or undefined when there is none: missing bytes delete the revision
 * (re-checked when applied: bytes back or revision gone skip it); a body that does not parse is logged and left alone.
 */
export async function bodyToRepairFrom(
  context: MaintenanceContext,
  ns: Namespace,
  digest: Digest,
  body: BodyState,
  unparsableMessage: string,
): Promise<Extract<BodyState, { kind: 'parsed' }> | undefined> {
  if (body.kind === 'missing') {
    await context.actions.run('delete revision', `'${ns}@${digest}' (manifest bytes missing)`, async () => {
      if ((await bytesExist(context.blobStore, digest)) || (await readRecord(context, ns, digest)).kind === 'absent') return 'skipped';
      await deleteByDigest(context, ns, digest);
      return 'applied';
    });
    return undefined;
  }
  if (body.kind === 'unparsable') {
    log.warn(unparsableMessage, { namespace: ns, digest, reason: body.reason });
    return undefined;
  }
  return body;
}

/** Tags of the namespace whose winning event is a `set` of `digest` (live or not), read before anything changes. */
async function tagsSetTo(context: MaintenanceContext, ns: Namespace, digest: Digest): Promise<Tag[]> {
  const tags: Tag[] = [];
  for await (const { tag, winner } of context.registry.metadata.fresh.tagWinners(ns)) if (winner.action === 'set' && winner.digest === digest) tags.push(tag);
  return tags;
}

/** Every digest with a revision record in the namespace, ascending (keys that name no digest are skipped). */
export function revisionDigests(context: MaintenanceContext, ns: Namespace): Promise<Digest[]> {
  return context.registry.metadata.fresh.revisionDigests(ns);
}

/** Whether a revision record's key is at least grace old. */
export function oldRevision(context: MaintenanceContext, ns: Namespace, digest: Digest): Promise<boolean> {
  return oldKey(context, context.metaStore, revisionKeys.revision(ns, digest));
}
