import { createHash } from 'node:crypto';
import { digestAlgorithm, makeDigest, type Digest } from '../oci/digest.ts';
import { OciError } from '../oci/errors.ts';
import { manifestReferences, parseManifest, referrerDescriptor, type Manifest } from '../oci/manifest.ts';
import type { MediaType } from '../oci/media-type.ts';
import type { Namespace } from '../oci/name.ts';
import type { Reference } from '../oci/reference.ts';
import { formatMicros, type SourceTimestamp } from '../oci/source-timestamp.ts';
import type { Tag } from '../oci/tag.ts';
import { isNotFound, type ObjectStore } from '../storage/object-store.ts';
import { reclaimedMeanwhile, type Access } from './access.ts';
import { authorTime, supersedes, type AuthorTime } from './author-time.ts';
import { RegistryError } from './errors.ts';
import { LOOKUP_CONCURRENCY, mapLimited } from './map-limited.ts';
import { nowMicros, type Actor, type Announcer, type ChangeEvent } from './events.ts';
import { awaitNoReclamation } from './gc-fence.ts';
import { ImmutableClaims } from './immutable-claims.ts';
import { exists, listAll, readJson } from './json-record.ts';
import { blobKeys, ordOf, refKeys, tagKeys, timeOfOrd, type TagEvent } from './keys.ts';
import type { MetadataLayer } from './metadata/layer.ts';
import type { ReadView } from './metadata/read-view.ts';
import { targetOf, type TagEventBody } from './metadata/records.ts';
import type { RegistrySettings } from './settings.ts';

export interface PushRequest {
  reference: Reference;
  contentType: MediaType;
  body: Buffer;
  /** `?tag=` values of a by-digest push (ignored by-tag). */
  extraTags: readonly Tag[];
  /** `X-Angos-Source-Timestamp`, when the write is replicated. */
  sourceTime?: SourceTimestamp;
  /**
   * An upstream's manifest stored by the pull-through cache (docs/pull-through.md): every reference is linked whether
   * or not its bytes are here yet, since the cache fetches them on demand.
   */
  trusted?: boolean;
}

export interface PushResult {
  digest: Digest;
  subject?: Digest;
  /** Tags created through `?tag=`, sorted, deduplicated. */
  queryTags: Tag[];
}

export interface StoredManifest {
  digest: Digest;
  mediaType: MediaType;
  size: number;
}

/**
 * Manifest push, pull and delete as ordered waves of idempotent writes (docs/storage.md, "Write waves"). What
 * decides a write (immutability, superseding, which tags move, what a delete removes) is read through the fresh
 * view; pulls may answer from the cached one.
 */
export class Manifests {
  readonly #blobs: ObjectStore;
  readonly #meta: ObjectStore;
  readonly #layer: MetadataLayer;
  readonly #access: Access;
  readonly #announce: Announcer;
  readonly #settings: () => RegistrySettings;
  readonly #claims: ImmutableClaims;

  constructor(blobs: ObjectStore, meta: ObjectStore, layer: MetadataLayer, access: Access, announce: Announcer, settings: () => RegistrySettings) {
    this.#blobs = blobs;
    this.#meta = meta;
    this.#layer = layer;
    this.#access = access;
    this.#announce = announce;
    this.#settings = settings;
    this.#claims = new ImmutableClaims(meta);
  }

  /**
   * The distinct references of `manifest` that `ns` can read, checked `LOOKUP_CONCURRENCY` at a time (an index may
   * name thousands of children, each a storage round trip or two on S3). Unless missing references are allowed, the
   * first batch holding one fails the push, naming the first missing digest in manifest order.
   */
  async #readableReferences(ns: Namespace, manifest: Manifest, allowMissing: boolean): Promise<Digest[]> {
    const digests = [...new Set(manifestReferences(manifest).map((descriptor) => descriptor.digest))];
    const readable: Digest[] = [];
    const batch = allowMissing ? digests.length : LOOKUP_CONCURRENCY;
    for (let start = 0; start < digests.length; start += batch) {
      const slice = digests.slice(start, start + batch);
      const found = await mapLimited(slice, LOOKUP_CONCURRENCY, (digest) => this.#access.canRead(ns, digest));
      const missing = slice.find((_, index) => !found[index]);
      if (missing !== undefined && !allowMissing) throw new RegistryError('manifest-blob-unknown', `manifest references unknown blob ${missing}`);
      readable.push(...slice.filter((_, index) => found[index]));
    }
    return readable;
  }

  async push(ns: Namespace, request: PushRequest, actor: Actor): Promise<PushResult> {
    const { reference, contentType, body } = request;
    const settings = this.#settings();
    const fresh = this.#layer.fresh;
    if (body.length > settings.maxManifestSize) throw manifestTooLarge(settings.maxManifestSize);
    const digest = reference.kind === 'digest' ? reference.digest : hashOf(body, 'sha256');
    const tags = reference.kind === 'tag' ? [reference.tag] : [...new Set(request.extraTags)].sort();
    const authored = authorTime(request.sourceTime);

    const winners = await fresh.tagWinnersOf(ns, tags);
    const current = await liveTargets(fresh, ns, winners);
    const immutable = tags.filter((tag) => settings.isImmutable(ns, tag));
    for (const tag of immutable) {
      const held = current.get(tag);
      if (held !== undefined && held !== digest) throw new RegistryError('immutable-tag', `Tag '${tag}' is immutable and cannot be overwritten`);
    }
    if (reference.kind === 'tag' && request.sourceTime !== undefined && (await this.#superseded(ns, reference.tag, authored, digest))) {
      throw new RegistryError('replication-superseded', `tag '${reference.tag}' holds a newer write`);
    }
    const manifest = parseBody(body, contentType);
    if (reference.kind === 'digest' && hashOf(body, digestAlgorithm(digest)) !== digest) {
      throw new RegistryError('manifest-invalid', 'manifest body does not match the digest in the URL');
    }
    const readable = request.trusted
      ? [...new Set(manifestReferences(manifest).map((descriptor) => descriptor.digest))]
      : await this.#readableReferences(ns, manifest, settings.allowMissingManifestReferences);
    const movedTags = tags.filter((tag) => current.get(tag) !== digest);
    const record = await (await fresh.revisions(ns))(digest);
    const subject = manifest.subject?.digest;
    const event: ChangeEvent = {
      kind: 'manifest-pushed',
      namespace: ns,
      actor,
      authoredAt: authored.micros,
      reference,
      digest,
      mediaType: contentType,
      size: body.length,
      ...(subject ? { subject } : {}),
      tags,
      movedTags,
      created: record === undefined,
    };
    await this.#announce.before(event);

    // First pushes of immutable tags: one atomic claim per tag state, so racing pushes of other manifests lose.
    for (const tag of immutable.filter((t) => current.get(t) === undefined)) await this.#claims.claim(ns, tag, winners.get(tag), digest);
    if (!(await exists(this.#blobs, blobKeys.data(digest)))) await this.#blobs.put(blobKeys.data(digest), body);
    // Wave 1: reference keys, so a concurrent collector sees this push before anything resolves.
    const wave1 = () =>
      Promise.all([
        this.#access.link(ns, digest, { kind: 'rev' }),
        ...movedTags.map((tag) => this.#access.link(ns, digest, { kind: 'tag', tag })),
        ...(subject ? [this.#access.link(ns, digest, { kind: 'sub', subject })] : []),
        ...readable.map((blob) => this.#access.link(ns, blob, { kind: 'manifest', manifest: digest })),
      ]);
    await wave1();
    // A collector this push had to wait for may have deleted bytes and, with them, wave 1's keys: write them again,
    // then the bytes must all be there (the body can be stored again; a referenced blob cannot, so the push fails).
    for (let round = 1; await awaitNoReclamation(this.#meta, [digest, ...readable]); round++) {
      if (round === 3) throw new RegistryError('reclamation-in-progress', 'blobs of this manifest are being reclaimed; retry');
      await wave1();
      if (!(await exists(this.#blobs, blobKeys.data(digest)))) await this.#blobs.put(blobKeys.data(digest), body);
      if (request.trusted) continue;
      for (const blob of readable) if (!(await exists(this.#blobs, blobKeys.data(blob)))) throw reclaimedMeanwhile(blob);
    }
    // Wave 2: the revision record makes the digest resolvable.
    const { writes } = this.#layer;
    if (!record) await writes.putRevision(ns, digest, { media_type: contentType, size: body.length, created_at: authored.text });
    // Wave 3: tags, referrer record, catalog.
    const eventBody = tagEventBody(manifest, contentType, body.length, request.sourceTime === undefined ? undefined : authored);
    const tagEvent: TagEvent = { ord: ordOf(authored.ms), action: 'set', digest };
    await Promise.all([
      ...movedTags.map((tag) => writes.appendTagEvent(ns, tag, tagEvent, eventBody)),
      ...(subject ? [writes.putReferrer(ns, subject, digest, referrerDescriptor(manifest, digest, body.length))] : []),
      writes.catalog(ns),
    ]);
    // A delete of this digest racing the push may have removed the revision after it was read or written and missed
    // the tags written since; left set, they would come back with the next push of the digest. The outcome is then
    // this push followed by that delete: the tags this push set are deleted too. (The delete checks for tags after
    // removing the revision, and this push for the revision after its tags, so one of the two always sees the other.)
    if (!(await (await fresh.revisions(ns))(digest))) {
      const now = await fresh.tagWinnersOf(ns, movedTags);
      await Promise.all(movedTags.filter((tag) => sameEvent(now.get(tag), tagEvent)).map((tag) => this.#appendDelete(ns, tag, tagEvent, after(tagEvent))));
    }
    this.#announce.after(event);
    const result: PushResult = { digest, queryTags: reference.kind === 'digest' ? tags : [] };
    if (subject) result.subject = subject;
    return result;
  }

  /** The manifest a reference names in the namespace, else `manifest-unknown`; not a pull (nothing is announced). */
  stat(ns: Namespace, reference: Reference): Promise<StoredManifest> {
    return this.#resolve(this.#layer.cached, ns, reference);
  }

  /** A client's pull (GET or HEAD) of the manifest a reference names, with its bytes when asked; `manifest-unknown` otherwise. */
  async pull(ns: Namespace, reference: Reference, actor: Actor, options: { withBody: boolean }): Promise<StoredManifest & { body?: Buffer }> {
    const stored = await this.stat(ns, reference);
    const pulled = options.withBody ? { ...stored, body: await this.body(stored) } : stored;
    this.#announce.after({ kind: 'manifest-pulled', namespace: ns, actor, authoredAt: nowMicros(), reference, digest: stored.digest, mediaType: stored.mediaType });
    return pulled;
  }

  /** The bytes of a manifest `pull` resolved. */
  async body(stored: StoredManifest): Promise<Buffer> {
    try {
      return await this.#layer.cached.manifestBody(stored.digest);
    } catch (err) {
      if (isNotFound(err)) throw new RegistryError('manifest-unknown', 'manifest bytes are missing');
      throw err;
    }
  }

  /** The parsed body of a revision of the namespace, or undefined when it is not one. */
  async parsed(ns: Namespace, digest: Digest): Promise<Manifest | undefined> {
    const view = this.#layer.cached;
    const record = await (await view.revisions(ns))(digest);
    if (!record) return undefined;
    try {
      return parseManifest(await view.manifestBody(digest), record.media_type);
    } catch (err) {
      if (isNotFound(err) || err instanceof OciError) return undefined;
      throw err;
    }
  }

  /** DELETE by tag: removes the tag only. Absent is a no-op (still announced, with no digest). */
  async deleteTag(ns: Namespace, tag: Tag, actor: Actor, sourceTime?: SourceTimestamp): Promise<void> {
    const authored = authorTime(sourceTime);
    const winner = await this.#layer.fresh.tagWinner(ns, tag);
    const held = targetOf(winner);
    if (held && sourceTime !== undefined && (await this.#superseded(ns, tag, authored, undefined))) {
      throw new RegistryError('replication-superseded', `tag '${tag}' was written after this delete`);
    }
    const event: ChangeEvent = { kind: 'tag-deleted', namespace: ns, actor, authoredAt: authored.micros, tag, ...(held ? { digest: held.digest } : {}) };
    await this.#announce.before(event);
    if (winner && held) await this.#appendDelete(ns, tag, winner, authored);
    this.#announce.after(event);
  }

  /** DELETE by digest: the revision, every tag on it and its referrer record. Absent is a no-op (still announced). */
  async deleteRevision(ns: Namespace, digest: Digest, actor: Actor, sourceTime?: SourceTimestamp): Promise<void> {
    const authored = authorTime(sourceTime);
    const fresh = this.#layer.fresh;
    const record = await (await fresh.revisions(ns))(digest);
    let subject: Digest | undefined;
    let tagsOnDigest: Array<{ tag: Tag; winner: TagEvent }> = [];
    if (record) {
      // Read the body first: an unreadable body is a fault, and nothing may be deleted then.
      const body = await this.#blobs.get(blobKeys.data(digest)).catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
      try {
        subject = body ? parseManifest(body, record.media_type).subject?.digest : undefined;
      } catch {
        subject = undefined;
      }
      tagsOnDigest = await this.#tagsPointingAt(fresh, ns, digest);
      if (sourceTime !== undefined) {
        for (const { tag } of tagsOnDigest) {
          if (await this.#superseded(ns, tag, authored, undefined)) {
            throw new RegistryError('replication-superseded', 'a tag on this manifest was written after this delete');
          }
        }
      }
    }
    const event: ChangeEvent = {
      kind: 'revision-deleted',
      namespace: ns,
      actor,
      authoredAt: authored.micros,
      digest,
      existed: record !== undefined,
      tags: tagsOnDigest.map(({ tag }) => tag),
    };
    await this.#announce.before(event);
    if (record) {
      const { writes } = this.#layer;
      await Promise.all(tagsOnDigest.map(({ tag, winner }) => this.#appendDelete(ns, tag, winner, authored)));
      if (subject) await writes.deleteReferrer(ns, subject, digest);
      await writes.deleteRevision(ns, digest);
      // A push of this digest racing the delete may have set a tag after the tags were read: deleted too, so it
      // cannot come back with a later push of the same digest. (The push checks the revision after its tags, so
      // one of the two always sees the other.)
      for (const late of await this.#tagsPointingAt(fresh, ns, digest)) await this.#appendDelete(ns, late.tag, late.winner, after(late.winner, authored));
    }
    this.#announce.after(event);
  }

  /** A `del` naming the digest the winner held, carrying the winner's body (docs/storage.md, "Tags"). */
  async #appendDelete(ns: Namespace, tag: Tag, winner: TagEvent, authored: AuthorTime): Promise<void> {
    const body = (await readJson<TagEventBody>(this.#meta, tagKeys.event(ns, tag, winner))) ?? {};
    await this.#layer.writes.appendTagEvent(ns, tag, { ord: ordOf(authored.ms), action: 'del', digest: winner.digest }, body);
  }

  async #resolve(view: ReadView, ns: Namespace, reference: Reference): Promise<StoredManifest> {
    const digest = reference.kind === 'digest' ? reference.digest : targetOf(await view.tagWinner(ns, reference.tag))?.digest;
    const record = digest ? await (await view.revisions(ns))(digest) : undefined;
    if (!digest || !record) throw new RegistryError('manifest-unknown', 'manifest unknown');
    return { digest, mediaType: record.media_type, size: record.size };
  }

  /** Tags of N whose winning `set` names the digest, found through the manifest's `tag.<t>` reference keys. */
  async #tagsPointingAt(fresh: ReadView, ns: Namespace, digest: Digest): Promise<Array<{ tag: Tag; winner: TagEvent }>> {
    const found: Array<{ tag: Tag; winner: TagEvent }> = [];
    for (const key of await listAll(this.#meta, refKeys.links(digest, ns))) {
      const parsed = refKeys.parse(digest, key);
      if (parsed?.ns !== ns || parsed.link.kind !== 'tag') continue;
      const winner = await fresh.tagWinner(ns, parsed.link.tag);
      if (winner?.action === 'set' && winner.digest === digest) found.push({ tag: parsed.link.tag, winner });
    }
    return found;
  }

  /** Whether the tag's current winner is newer than a replicated write authored at `incoming` (docs/api.md, "Replicated writes"). */
  async #superseded(ns: Namespace, tag: Tag, incoming: AuthorTime, incomingDigest: Digest | undefined): Promise<boolean> {
    const winner = await this.#layer.fresh.tagWinner(ns, tag);
    if (!winner) return false;
    const body = async () => (await readJson<TagEventBody>(this.#meta, tagKeys.event(ns, tag, winner))) ?? {};
    return supersedes(winner, body, incoming, incomingDigest);
  }
}

/**
 * The digest each tag resolves to, from its winning event (read for all tags at once, `tagWinnersOf`, so a push with
 * many `?tag=` values costs in proportion to them), counting only tags whose revision still exists (docs/storage.md,
 * "Tags").
 */
async function liveTargets(view: ReadView, ns: Namespace, winners: ReadonlyMap<Tag, TagEvent | undefined>): Promise<Map<Tag, Digest | undefined>> {
  const revision = await view.revisions(ns);
  const targets = new Map<Tag, Digest | undefined>();
  for (const tag of winners.keys()) {
    const target = targetOf(winners.get(tag));
    targets.set(tag, target && (await revision(target.digest)) ? target.digest : undefined);
  }
  return targets;
}

/** A time for a `del` that must win over `winner`: `at` (now when absent), or just after the winner when that is later. */
function after(winner: TagEvent, at: AuthorTime = authorTime(undefined)): AuthorTime {
  const winnerMs = timeOfOrd(winner.ord);
  if (winnerMs === undefined || winnerMs < at.ms) return at;
  // Not clamped to now: the winner may be from this very millisecond.
  return { micros: (winnerMs + 1) * 1000, ms: winnerMs + 1, text: new Date(winnerMs + 1).toISOString() };
}

function sameEvent(a: TagEvent | undefined, b: TagEvent): boolean {
  return a !== undefined && a.ord === b.ord && a.action === b.action && a.digest === b.digest;
}

function parseBody(body: Buffer, contentType: MediaType): Manifest {
  try {
    return parseManifest(body, contentType);
  } catch (err) {
    if (err instanceof OciError) throw new RegistryError('manifest-invalid', err.message);
    throw err;
  }
}

export function manifestTooLarge(limit: number): RegistryError {
  return new RegistryError('manifest-too-large', `manifest exceeds the maximum size of ${limit} bytes`);
}

/**
 * What a tag event records of the pushed manifest, minus distribution-reserved annotations; a replicated push
 * also keeps its author time to the microsecond, which the event's key holds only to the millisecond.
 */
function tagEventBody(manifest: Manifest, mediaType: MediaType, size: number, replicated: AuthorTime | undefined): TagEventBody {
  const body: TagEventBody = { media_type: mediaType, size };
  const annotations = Object.entries(manifest.annotations ?? {}).filter(([key]) => !key.startsWith('org.opencontainers.distribution'));
  if (annotations.length > 0) body.annotations = Object.fromEntries(annotations);
  if (replicated) body.created_at = formatMicros(replicated.micros);
  return body;
}

function hashOf(body: Buffer, algorithm: 'sha256' | 'sha512'): Digest {
  return makeDigest(algorithm, createHash(algorithm).update(body).digest('hex'));
}
