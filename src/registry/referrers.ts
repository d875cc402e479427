import { digestAlgorithm, digestHex, type Digest } from '../oci/digest.ts';
import type { Descriptor } from '../oci/manifest.ts';
import type { Namespace } from '../oci/name.ts';
import { parseTag } from '../oci/tag.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { isNotFound } from '../storage/object-store.ts';
import { listAll } from './json-record.ts';
import { referrerKeys } from './keys.ts';
import { linkKeys, type LinkCache } from './link-cache.ts';
import type { Manifests } from './manifests.ts';
import type { Tags } from './tags.ts';

export const REFERRERS_PAGE_SIZE = 100;

export interface ReferrersPage {
  manifests: Descriptor[];
  /** Cursor for the next page (the last candidate of this one), when more follow. */
  next?: Digest;
}

/**
 * Referrer records (subject ← referrer), written by pushes and dropped by digest deletes. With a link cache (S3)
 * the records of a subject are read from it, up to its TTL behind another replica's write; ownership checks read
 * the record keys themselves (`Access`).
 */
export class ReferrerRecords {
  private readonly meta: ObjectStore;
  private readonly links: LinkCache | undefined;

  constructor(meta: ObjectStore, links?: LinkCache) {
    this.meta = meta;
    this.links = links;
  }

  /** Writes the record, then drops the subject's cached list (rebuilding it would mean listing every record). */
  async put(ns: Namespace, subject: Digest, referrer: Digest, descriptor: Descriptor): Promise<void> {
    await this.meta.put(referrerKeys.record(ns, subject, referrer), JSON.stringify(descriptor));
    await this.links?.forget(linkKeys.referrers(ns, subject));
  }

  async delete(ns: Namespace, subject: Digest, referrer: Digest): Promise<void> {
    await this.meta.delete(referrerKeys.record(ns, subject, referrer));
    await this.links?.forget(linkKeys.referrers(ns, subject));
  }

  /** The descriptors recorded for the subject, in key order. */
  async list(ns: Namespace, subject: Digest): Promise<Descriptor[]> {
    if (!this.links) return this.stored(ns, subject);
    return (await this.links.read(linkKeys.referrers(ns, subject), () => this.stored(ns, subject))) ?? [];
  }

  private async stored(ns: Namespace, subject: Digest): Promise<Descriptor[]> {
    const descriptors: Descriptor[] = [];
    for (const key of await listAll(this.meta, referrerKeys.subject(ns, subject))) {
      const descriptor = await this.readRecord(key);
      if (descriptor) descriptors.push(descriptor);
    }
    return descriptors;
  }

  private async readRecord(key: string): Promise<Descriptor | undefined> {
    try {
      const record = JSON.parse((await this.meta.get(key)).toString('utf8')) as Partial<Descriptor>;
      const digest = referrerKeys.parse(key);
      return digest && record.mediaType ? ({ ...record, digest } as Descriptor) : undefined;
    } catch (err) {
      if (isNotFound(err) || err instanceof SyntaxError) return undefined;
      throw err;
    }
  }
}

/** The referrers API (chapter 01 §8): subject records plus the fallback-tag index, paged before filtering. */
export class Referrers {
  private readonly records: ReferrerRecords;
  private readonly tags: Tags;
  private readonly manifests: Manifests;

  constructor(records: ReferrerRecords, tags: Tags, manifests: Manifests) {
    this.records = records;
    this.tags = tags;
    this.manifests = manifests;
  }

  async list(ns: Namespace, subject: Digest, options: { artifactType?: string; last?: string }): Promise<ReferrersPage> {
    const candidates = new Map<string, Descriptor>();
    for (const descriptor of await this.records.list(ns, subject)) candidates.set(descriptor.digest, descriptor);
    for (const descriptor of await this.fallbackIndex(ns, subject)) {
      if (!candidates.has(descriptor.digest)) candidates.set(descriptor.digest, descriptor);
    }
    const sorted = [...candidates.values()]
      .filter((d) => options.last === undefined || d.digest > options.last)
      .sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
    const page = sorted.slice(0, REFERRERS_PAGE_SIZE);
    const result: ReferrersPage = {
      manifests: options.artifactType === undefined ? page : page.filter((d) => d.artifactType === options.artifactType),
    };
    if (sorted.length > REFERRERS_PAGE_SIZE) result.next = page[page.length - 1]!.digest;
    return result;
  }

  /** Descriptors of the index a pre-referrers client stored under the tag `<alg>-<first 64 hex>`. */
  private async fallbackIndex(ns: Namespace, subject: Digest): Promise<Descriptor[]> {
    const tag = parseTag(`${digestAlgorithm(subject)}-${digestHex(subject).slice(0, 64)}`)!;
    const target = await this.tags.resolve(ns, tag);
    if (!target) return [];
    const index = await this.manifests.parsed(ns, target.digest);
    return index?.manifests ?? [];
  }
}
