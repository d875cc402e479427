import { digestAlgorithm, digestHex, type Digest } from '../oci/digest.ts';
import type { Descriptor } from '../oci/manifest.ts';
import type { Namespace } from '../oci/name.ts';
import { parseTag } from '../oci/tag.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { isNotFound } from '../storage/object-store.ts';
import { listAll } from './json-record.ts';
import { referrerKeys } from './keys.ts';
import type { Manifests } from './manifests.ts';
import type { Tags } from './tags.ts';

export const REFERRERS_PAGE_SIZE = 100;

export interface ReferrersPage {
  manifests: Descriptor[];
  /** Cursor for the next page (the last candidate of this one), when more follow. */
  next?: Digest;
}

/** The referrers API (chapter 01 §8): subject records plus the fallback-tag index, paged before filtering. */
export class Referrers {
  private readonly meta: ObjectStore;
  private readonly tags: Tags;
  private readonly manifests: Manifests;

  constructor(meta: ObjectStore, tags: Tags, manifests: Manifests) {
    this.meta = meta;
    this.tags = tags;
    this.manifests = manifests;
  }

  async list(ns: Namespace, subject: Digest, options: { artifactType?: string; last?: string }): Promise<ReferrersPage> {
    const candidates = new Map<string, Descriptor>();
    for (const key of await listAll(this.meta, referrerKeys.subject(ns, subject))) {
      const descriptor = await this.readRecord(key);
      if (descriptor) candidates.set(descriptor.digest, descriptor);
    }
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

  /** Descriptors of the index a pre-referrers client stored under the tag `<alg>-<first 64 hex>`. */
  private async fallbackIndex(ns: Namespace, subject: Digest): Promise<Descriptor[]> {
    const tag = parseTag(`${digestAlgorithm(subject)}-${digestHex(subject).slice(0, 64)}`)!;
    const target = await this.tags.resolve(ns, tag);
    if (!target) return [];
    const index = await this.manifests.parsed(ns, target.digest);
    return index?.manifests ?? [];
  }
}
