import { createHash } from 'node:crypto';
import { digestAlgorithm, makeDigest, type Digest } from '../oci/digest.ts';
import { OciError } from '../oci/errors.ts';
import { manifestReferences, parseManifest, referrerDescriptor, type Manifest } from '../oci/manifest.ts';
import type { MediaType } from '../oci/media-type.ts';
import type { Namespace } from '../oci/name.ts';
import type { Reference } from '../oci/reference.ts';
import type { Tag } from '../oci/tag.ts';
import { isNotFound, type ObjectStore } from '../storage/object-store.ts';
import type { Access } from './access.ts';
import { BodyCache } from './body-cache.ts';
import { awaitNoReclamation } from './gc-fence.ts';
import { exists, readJson } from './json-record.ts';
import { blobKeys, catalogKeys, refKeys, tagKeys, timeOfOrd } from './keys.ts';
import type { ReferrerRecords } from './referrers.ts';
import type { Revisions } from './revisions.ts';
import type { RegistrySettings } from './settings.ts';
import type { TagEventBody, Tags } from './tags.ts';

export interface PushRequest {
  reference: Reference;
  contentType: MediaType;
  body: Buffer;
  /** `?tag=` values of a by-digest push (ignored by-tag). */
  extraTags: readonly Tag[];
  /** `X-Angos-Source-Timestamp` in unix ms, when present and valid. */
  sourceTimeMs?: number;
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
 * Manifest push, read and delete as ordered waves of idempotent writes (chapter 04 §1.7). Reads that decide a
 * write (immutability, superseding, which tags move, what a delete removes) are fresh; `stat`/`read` (manifest
 * GET/HEAD) may answer from the link cache.
 */
export class Manifests {
  private readonly blobs: ObjectStore;
  private readonly meta: ObjectStore;
  private readonly tags: Tags;
  private readonly revisions: Revisions;
  private readonly access: Access;
  private readonly referrerRecords: ReferrerRecords;
  private readonly settings: () => RegistrySettings;
  /** Namespaces whose catalog key this process already wrote. */
  private readonly cataloged = new Set<Namespace>();
  private readonly bodies = new BodyCache(16 * 1024 * 1024, 1024 * 1024);

  constructor(
    blobs: ObjectStore,
    meta: ObjectStore,
    tags: Tags,
    revisions: Revisions,
    access: Access,
    referrerRecords: ReferrerRecords,
    settings: () => RegistrySettings,
  ) {
    this.blobs = blobs;
    this.meta = meta;
    this.tags = tags;
    this.revisions = revisions;
    this.access = access;
    this.referrerRecords = referrerRecords;
    this.settings = settings;
  }

  async push(ns: Namespace, request: PushRequest): Promise<PushResult> {
    const { reference, contentType, body } = request;
    const settings = this.settings();
    const digest = reference.kind === 'digest' ? reference.digest : sha256(body);
    const tags = reference.kind === 'tag' ? [reference.tag] : [...new Set(request.extraTags)].sort();
    const now = Date.now();
    const authorTime = request.sourceTimeMs === undefined ? now : Math.min(request.sourceTimeMs, now);

    for (const tag of tags) {
      if (!settings.isImmutable(ns, tag)) continue;
      const current = await this.resolveTag(ns, tag);
      if (current && current !== digest) {
        throw new OciError('DENIED', `Tag '${tag}' is immutable and cannot be overwritten`, { status: 409 });
      }
    }
    if (reference.kind === 'tag' && request.sourceTimeMs !== undefined) {
      await this.assertNotSuperseded(ns, reference.tag, authorTime, digest);
    }
    const manifest = parseManifest(body, contentType);
    if (reference.kind === 'digest' && hashOf(body, digest) !== digest) {
      throw new OciError('MANIFEST_INVALID', 'manifest body does not match the digest in the URL');
    }
    const readable: Digest[] = [];
    for (const descriptor of manifestReferences(manifest)) {
      if (readable.includes(descriptor.digest)) continue;
      if (await this.access.canRead(ns, descriptor.digest)) readable.push(descriptor.digest);
      else if (!settings.allowMissingManifestReferences) {
        throw new OciError('MANIFEST_BLOB_UNKNOWN', `manifest references unknown blob ${descriptor.digest}`);
      }
    }

    if (!(await exists(this.blobs, blobKeys.data(digest)))) await this.blobs.put(blobKeys.data(digest), body);
    const tagTargets = await Promise.all(tags.map(async (tag) => ({ tag, current: await this.resolveTag(ns, tag) })));
    const newTags = tagTargets.filter((t) => t.current !== digest).map((t) => t.tag);

    // Wave 1: reference keys, so a concurrent collector sees this push before anything resolves.
    const subject = manifest.subject?.digest;
    await Promise.all([
      this.access.link(ns, digest, { kind: 'rev' }),
      ...newTags.map((tag) => this.access.link(ns, digest, { kind: 'tag', tag })),
      ...(subject ? [this.access.link(ns, digest, { kind: 'sub', subject })] : []),
      ...readable.map((blob) => this.access.link(ns, blob, { kind: 'manifest', manifest: digest })),
    ]);
    await awaitNoReclamation(this.meta, [digest, ...readable]);
    // Wave 2: the revision record makes the digest resolvable.
    if (!(await this.revisions.freshGet(ns, digest))) {
      await this.revisions.put(ns, digest, { media_type: contentType, size: body.length, created_at: new Date(now).toISOString() });
    }
    // Wave 3: tags, referrer record, catalog.
    const eventBody = tagEventBody(manifest, contentType, body.length);
    await Promise.all([
      ...newTags.map((tag) => this.tags.append(ns, tag, 'set', digest, authorTime, eventBody)),
      ...(subject
        ? [this.referrerRecords.put(ns, subject, digest, referrerDescriptor(manifest, digest, body.length))]
        : []),
      this.addToCatalog(ns),
    ]);
    const result: PushResult = { digest, queryTags: reference.kind === 'digest' ? tags : [] };
    if (subject) result.subject = subject;
    return result;
  }

  /** The manifest a reference names in the namespace, or `MANIFEST_UNKNOWN`. */
  async stat(ns: Namespace, reference: Reference): Promise<StoredManifest> {
    const digest = reference.kind === 'digest' ? reference.digest : (await this.tags.resolve(ns, reference.tag))?.digest;
    const record = digest ? await this.revisions.get(ns, digest) : undefined;
    if (!digest || !record) throw new OciError('MANIFEST_UNKNOWN', 'manifest unknown');
    return { digest, mediaType: record.media_type, size: record.size };
  }

  async read(ns: Namespace, reference: Reference): Promise<StoredManifest & { body: Buffer }> {
    const stored = await this.stat(ns, reference);
    try {
      return { ...stored, body: await this.bodies.get(stored.digest, () => this.blobs.get(blobKeys.data(stored.digest))) };
    } catch (err) {
      if (isNotFound(err)) throw new OciError('MANIFEST_UNKNOWN', 'manifest bytes are missing');
      throw err;
    }
  }

  /** The parsed body of a revision of the namespace, or undefined when it is not one. */
  async parsed(ns: Namespace, digest: Digest): Promise<Manifest | undefined> {
    const record = await this.revisions.get(ns, digest);
    if (!record) return undefined;
    try {
      return parseManifest(await this.blobs.get(blobKeys.data(digest)), record.media_type);
    } catch (err) {
      if (isNotFound(err) || err instanceof OciError) return undefined;
      throw err;
    }
  }

  /** DELETE by tag: removes the tag only. Absent is a no-op. */
  async deleteTag(ns: Namespace, tag: Tag, sourceTimeMs?: number): Promise<void> {
    const winner = await this.tags.freshWinner(ns, tag);
    if (!winner || winner.action === 'del') return;
    const now = Date.now();
    const authorTime = sourceTimeMs === undefined ? now : Math.min(sourceTimeMs, now);
    if (sourceTimeMs !== undefined && (timeOfOrd(winner.ord) ?? -Infinity) > authorTime) {
      throw new OciError('REPLICATION_SUPERSEDED', `tag '${tag}' was written after this delete`);
    }
    const body = (await readJson<TagEventBody>(this.meta, tagKeys.event(ns, tag, winner))) ?? {};
    await this.tags.append(ns, tag, 'del', winner.digest, authorTime, body);
  }

  /** DELETE by digest: the revision, every tag on it and its referrer record. Absent is a no-op. */
  async deleteRevision(ns: Namespace, digest: Digest, sourceTimeMs?: number): Promise<void> {
    const record = await this.revisions.freshGet(ns, digest);
    if (!record) return;
    // Read the body first: an unreadable body is a fault, and nothing may be deleted then.
    const body = await this.blobs.get(blobKeys.data(digest)).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    let subject: Digest | undefined;
    try {
      subject = body ? parseManifest(body, record.media_type).subject?.digest : undefined;
    } catch {
      subject = undefined;
    }
    const tagsOnDigest = await this.tagsPointingAt(ns, digest);
    const now = Date.now();
    const authorTime = sourceTimeMs === undefined ? now : Math.min(sourceTimeMs, now);
    if (sourceTimeMs !== undefined && tagsOnDigest.some((t) => (t.createdAt ?? -Infinity) > authorTime)) {
      throw new OciError('REPLICATION_SUPERSEDED', 'a tag on this manifest was written after this delete');
    }
    await Promise.all(tagsOnDigest.map((t) => this.deleteTagEvent(ns, t.tag, digest, authorTime)));
    if (subject) await this.referrerRecords.delete(ns, subject, digest);
    await this.revisions.delete(ns, digest);
  }

  private async deleteTagEvent(ns: Namespace, tag: Tag, digest: Digest, authorTime: number): Promise<void> {
    const winner = await this.tags.freshWinner(ns, tag);
    const body = winner ? ((await readJson<TagEventBody>(this.meta, tagKeys.event(ns, tag, winner))) ?? {}) : {};
    await this.tags.append(ns, tag, 'del', digest, authorTime, body);
  }

  /** Tags of N that currently resolve to the digest, found through the manifest's `tag.<t>` reference keys. */
  private async tagsPointingAt(ns: Namespace, digest: Digest): Promise<Array<{ tag: Tag; createdAt: number | undefined }>> {
    const found: Array<{ tag: Tag; createdAt: number | undefined }> = [];
    const page = await this.meta.list(refKeys.links(digest, ns), { limit: 10_000 });
    for (const key of page.keys) {
      const parsed = refKeys.parse(digest, key);
      if (parsed?.ns !== ns || parsed.link.kind !== 'tag') continue;
      const target = await this.tags.freshResolve(ns, parsed.link.tag);
      if (target?.digest === digest) found.push({ tag: parsed.link.tag, createdAt: target.createdAt });
    }
    return found;
  }

  /** The digest a tag resolves to, counting only tags whose revision still exists. */
  private async resolveTag(ns: Namespace, tag: Tag): Promise<Digest | undefined> {
    const target = await this.tags.freshResolve(ns, tag);
    return target && (await this.revisions.freshGet(ns, target.digest)) ? target.digest : undefined;
  }

  private async assertNotSuperseded(ns: Namespace, tag: Tag, authorTime: number, digest: Digest): Promise<void> {
    const winner = await this.tags.freshWinner(ns, tag);
    const localTime = winner ? timeOfOrd(winner.ord) : undefined;
    if (!winner || localTime === undefined) return;
    if (localTime > authorTime || (localTime === authorTime && winner.digest > digest)) {
      throw new OciError('REPLICATION_SUPERSEDED', `tag '${tag}' holds a newer write`);
    }
  }

  private async addToCatalog(ns: Namespace): Promise<void> {
    if (this.cataloged.has(ns)) return;
    await this.meta.put(catalogKeys.entry(ns), '');
    this.cataloged.add(ns);
  }
}

function tagEventBody(manifest: Manifest, mediaType: MediaType, size: number): TagEventBody {
  const body: TagEventBody = { media_type: mediaType, size };
  const annotations = Object.entries(manifest.annotations ?? {}).filter(([key]) => !key.startsWith('org.opencontainers.distribution'));
  if (annotations.length > 0) body.annotations = Object.fromEntries(annotations);
  return body;
}

function sha256(body: Buffer): Digest {
  return makeDigest('sha256', createHash('sha256').update(body).digest('hex'));
}

function hashOf(body: Buffer, like: Digest): Digest {
  const algorithm = digestAlgorithm(like);
  return makeDigest(algorithm, createHash(algorithm).update(body).digest('hex'));
}
