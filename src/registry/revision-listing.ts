import { isDigest, type Digest } from '../oci/digest.ts';
import type { Descriptor, Platform } from '../oci/manifest.ts';
import type { Namespace } from '../oci/name.ts';
import type { Tag } from '../oci/tag.ts';
import { timeOfOrd } from './keys.ts';
import type { Manifests } from './manifests.ts';
import { LOOKUP_CONCURRENCY, mapLimited } from './map-limited.ts';
import { byCodeUnit, type NamespaceContents } from './namespace-contents.ts';
import type { Referrers } from './referrers.ts';
import type { ReadView } from './metadata/read-view.ts';
import type { PullHistory } from './pull-history.ts';

/** Docker's buildx marks an attestation manifest in an index with the digest of the image it attests. */
const DOCKER_REFERENCE_DIGEST = 'vnd.docker.reference.digest';
const PREDICATE_TYPE = 'in-toto.io/predicate-type';

/** An index of the namespace listing a revision as one of its platform images. */
export interface ParentSummary {
  digest: Digest;
  tags: Tag[];
  /** The platform the index gives the child, when it gives one. */
  platform?: Platform;
}

export interface ReferrerSummary {
  digest: Digest;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** One revision as `revisions/list` shows it (docs/api.md, "Extension API"). */
export interface RevisionSummary {
  digest: Digest;
  tags: Tag[];
  parents: ParentSummary[];
  /** Docker-style attestations first, then the first page of the referrers API. */
  referrers: ReferrerSummary[];
  /** Cursor of the referrers API's next page, when there is one. */
  referrersNext?: Digest;
  /** RFC 3339. */
  pushedAt?: string;
  /** RFC 3339: the newest recorded pull by digest or through one of its tags (docs/api.md, "Extension API"). */
  lastPulledAt?: string;
}

/** How the namespace's indexes relate revisions: who lists whom as a child, and which children are attestations. */
interface IndexLinks {
  parents: Map<Digest, ParentSummary[]>;
  attestations: Map<Digest, ReferrerSummary[]>;
}

/** Every revision of a namespace with its tags, parent indexes and referrers. */
export class RevisionListing {
  private readonly contents: NamespaceContents;
  private readonly view: ReadView;
  private readonly manifests: Manifests;
  private readonly referrers: Referrers;
  private readonly pulls: PullHistory;

  constructor(contents: NamespaceContents, cached: ReadView, manifests: Manifests, referrers: Referrers, pulls: PullHistory) {
    this.contents = contents;
    this.view = cached;
    this.manifests = manifests;
    this.referrers = referrers;
    this.pulls = pulls;
  }

  /** Sorted by digest; an empty or unknown namespace lists nothing. */
  async list(ns: Namespace): Promise<RevisionSummary[]> {
    const digests = await this.contents.revisions(ns);
    const tagsOf = invert(await this.contents.liveTags(ns, new Set(digests)));
    const links = await this.indexLinks(ns, digests, tagsOf);
    const lastPulls = await this.lastPulls(ns, digests, tagsOf);
    const entries: RevisionSummary[] = [];
    const revision = await this.view.revisions(ns);
    for (const digest of digests) {
      const record = await revision(digest);
      // Deleted since the listing: no longer a revision.
      if (!record) continue;
      const page = await this.referrers.list(ns, digest, {});
      const entry: RevisionSummary = {
        digest,
        tags: tagsOf.get(digest) ?? [],
        parents: links.parents.get(digest) ?? [],
        referrers: mergeReferrers(links.attestations.get(digest) ?? [], page.manifests.map(referrerSummary)),
      };
      if (page.next !== undefined) entry.referrersNext = page.next;
      if (record.created_at) entry.pushedAt = record.created_at;
      const lastPulled = lastPulls.get(digest);
      if (lastPulled !== undefined) entry.lastPulledAt = new Date(lastPulled).toISOString();
      entries.push(entry);
    }
    return entries;
  }

  /**
   * Per revision, the newest recorded pull by its digest or through a tag now on it, counting a tag's pulls only
   * from the time the tag moved there (earlier ones pulled what it held before). With pull recording off, or no
   * entry in the namespace, none: one listing instead of one per revision and tag.
   */
  private async lastPulls(ns: Namespace, digests: readonly Digest[], tagsOf: ReadonlyMap<Digest, Tag[]>): Promise<Map<Digest, number>> {
    const last = new Map<Digest, number>();
    if (!this.pulls.recording || !(await this.pulls.holdsEntries(ns))) return last;
    const winners = await this.view.tagWinnersOf(ns, [...tagsOf.values()].flat());
    await mapLimited(digests, LOOKUP_CONCURRENCY, async (digest) => {
      let newest = await this.pulls.lastPulledAt(ns, { kind: 'revision', digest });
      for (const tag of tagsOf.get(digest) ?? []) {
        const at = await this.pulls.lastPulledAt(ns, { kind: 'tag', tag });
        const winner = winners.get(tag);
        const since = winner?.digest === digest ? timeOfOrd(winner.ord) : undefined;
        if (at !== undefined && (since === undefined || at >= since) && (newest === undefined || at > newest)) newest = at;
      }
      if (newest !== undefined) last.set(digest, newest);
    });
    return last;
  }

  private async indexLinks(ns: Namespace, digests: readonly Digest[], tagsOf: ReadonlyMap<Digest, Tag[]>): Promise<IndexLinks> {
    const links: IndexLinks = { parents: new Map(), attestations: new Map() };
    for (const digest of digests) {
      const index = await this.manifests.parsed(ns, digest);
      for (const child of index?.manifests ?? []) {
        const attested = child.annotations?.[DOCKER_REFERENCE_DIGEST];
        if (attested === undefined) {
          const parent: ParentSummary = { digest, tags: tagsOf.get(digest) ?? [] };
          if (child.platform) parent.platform = child.platform;
          append(links.parents, child.digest, parent);
        } else if (isDigest(attested)) {
          append(links.attestations, attested, await this.attestation(ns, child));
        }
      }
    }
    return links;
  }

  /** An attestation child, its annotations enriched with the predicate type its first carrying layer declares. */
  private async attestation(ns: Namespace, child: Descriptor): Promise<ReferrerSummary> {
    const annotations = { ...child.annotations };
    const manifest = await this.manifests.parsed(ns, child.digest);
    const predicate = manifest?.layers.find((layer) => layer.annotations?.[PREDICATE_TYPE] !== undefined);
    if (predicate) annotations[PREDICATE_TYPE] = predicate.annotations![PREDICATE_TYPE]!;
    return referrerSummary({ ...child, annotations });
  }
}

function referrerSummary(descriptor: Descriptor): ReferrerSummary {
  const summary: ReferrerSummary = { digest: descriptor.digest };
  if (descriptor.artifactType !== undefined) summary.artifactType = descriptor.artifactType;
  if (descriptor.annotations && Object.keys(descriptor.annotations).length > 0) summary.annotations = descriptor.annotations;
  return summary;
}

/** Attestations first; a referrer both ways is listed once. */
function mergeReferrers(attestations: ReferrerSummary[], referrers: ReferrerSummary[]): ReferrerSummary[] {
  const seen = new Set(attestations.map((r) => r.digest));
  return [...attestations, ...referrers.filter((r) => !seen.has(r.digest))];
}

function invert(tags: ReadonlyMap<Tag, Digest>): Map<Digest, Tag[]> {
  const byDigest = new Map<Digest, Tag[]>();
  for (const [tag, digest] of tags) append(byDigest, digest, tag);
  for (const list of byDigest.values()) list.sort(byCodeUnit);
  return byDigest;
}

function append<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
