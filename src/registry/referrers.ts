import { digestAlgorithm, digestHex, type Digest } from '../oci/digest.ts';
import type { Descriptor } from '../oci/manifest.ts';
import type { Namespace } from '../oci/name.ts';
import { parseTag } from '../oci/tag.ts';
import type { Manifests } from './manifests.ts';
import type { ReadView } from './metadata/read-view.ts';
import { targetOf } from './metadata/records.ts';

export const REFERRERS_PAGE_SIZE = 100;

export interface ReferrersPage {
  manifests: Descriptor[];
  /** Cursor for the next page (the last candidate of this one), when more follow. */
  next?: Digest;
}

/** The referrers API (docs/api.md, "Referrers"): subject records plus the fallback-tag index, paged before filtering. */
export class Referrers {
  readonly #view: ReadView;
  readonly #manifests: Manifests;

  constructor(cached: ReadView, manifests: Manifests) {
    this.#view = cached;
    this.#manifests = manifests;
  }

  /** `upstream`: a pull-through namespace's upstream referrers, merged in where no local descriptor has the digest. */
  async list(ns: Namespace, subject: Digest, options: { artifactType?: string; last?: string; upstream?: readonly Descriptor[] }): Promise<ReferrersPage> {
    const candidates = new Map<string, Descriptor>();
    for (const descriptor of await this.#view.referrers(ns, subject)) candidates.set(descriptor.digest, descriptor);
    for (const descriptor of [...(await this.#fallbackIndex(ns, subject)), ...(options.upstream ?? [])]) {
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
  async #fallbackIndex(ns: Namespace, subject: Digest): Promise<Descriptor[]> {
    const tag = parseTag(`${digestAlgorithm(subject)}-${digestHex(subject).slice(0, 64)}`)!;
    const target = targetOf(await this.#view.tagWinner(ns, tag));
    if (!target) return [];
    const index = await this.#manifests.parsed(ns, target.digest);
    return index?.manifests ?? [];
  }
}
