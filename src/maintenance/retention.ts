// `scrub --retention` and the server's scheduled retention pass (docs/operations.md, "Retention policies"): per
// namespace, the tags no policy keeps are deleted, then the revisions nothing keeps any more. Deletes go through the
// registry's own delete paths with an internal retention actor, so events fire as for a client's delete.
import type { Digest } from '../oci/digest.ts';
import { parseManifest } from '../oci/manifest.ts';
import type { Namespace } from '../oci/name.ts';
import { parseSourceTimestamp } from '../oci/source-timestamp.ts';
import type { Tag } from '../oci/tag.ts';
import { logger } from '../observability/logging.ts';
import type { Actor } from '../registry/events.ts';
import { listAll } from '../registry/json-record.ts';
import { refKeys, revisionKeys, timeOfOrd, type AccessTarget, type TagEvent } from '../registry/keys.ts';
import { LOOKUP_CONCURRENCY, mapLimited } from '../registry/map-limited.ts';
import type { ReadView, RevisionLookup } from '../registry/metadata/read-view.ts';
import type { RevisionRecord } from '../registry/metadata/records.ts';
import { isNotFound } from '../storage/object-store.ts';
import { olderThan, type MaintenanceContext } from './context.ts';
import { policiesFor, pullTimeRefusal, rankByTime, RetentionJudge, usesPullTimes } from './retention-decision.ts';
import type { NamespaceCheck } from './scrub.ts';

const log = logger('angos::maintenance::retention');

/** Who retention's deletes are announced as (docs/architecture.md, "Registry events"). */
export const RETENTION_ACTOR: Actor = { internal: 'retention' };

export const retentionCheck: NamespaceCheck = {
  flag: '--retention',
  refuse: (config) => pullTimeRefusal(config),
  run: (context, ns) => applyRetention(context, ns),
};

/** Newest recorded pull of a tag (pulled by tag) or a revision (pulled by digest), unix ms; undefined when never. */
type LastPulled = (target: AccessTarget) => Promise<number | undefined>;

/** A live tag as step 1 found it: its winning `set` event. */
interface LiveTag {
  readonly tag: Tag;
  readonly winner: TagEvent;
}

/** The retention pass over one namespace (a dry run logs what it would delete and changes nothing). */
export async function applyRetention(context: MaintenanceContext, ns: Namespace): Promise<void> {
  const policies = policiesFor(context.config, ns);
  if (policies.length === 0) return;
  const fresh = context.registry.metadata.fresh;
  const lastPulled: LastPulled = usesPullTimes(policies) ? (target) => context.registry.pullHistory.lastPulledAt(ns, target) : async () => undefined;

  // 1. Live tags, uncached, and the rankings every rule of the pass sees.
  const tags = await liveTags(fresh, ns);
  const tagPulls = await mapLimited(tags, LOOKUP_CONCURRENCY, ({ tag }) => lastPulled({ kind: 'tag', tag }));
  const judge = new RetentionJudge(ns, policies, {
    now: Math.floor(context.now() / 1000),
    pushedRanking: rankByTime(tags.map(({ tag, winner }) => [tag, timeOfOrd(winner.ord)])),
    pulledRanking: rankByTime(tags.map(({ tag }, index) => [tag, tagPulls[index]])),
  });

  // 2. Tags no policy keeps. What a real run could not delete still resolves its revision; a dry run counts every
  // would-be delete as done, so step 3 previews what a real run deletes.
  const stillTagged = new Set<Digest>();
  const untaggedByPass = new Set<Digest>();
  for (const [index, { tag, winner }] of tags.entries()) {
    const image = { tag, pushedAt: seconds(timeOfOrd(winner.ord)), lastPulledAt: seconds(tagPulls[index]) };
    if (judge.keeps(image, `'${ns}:${tag}'`)) {
      stillTagged.add(winner.digest);
      continue;
    }
    const outcome = await context.actions.run('delete tag', `'${ns}:${tag}' (policy)`, () => deleteTagIfUnchanged(context, ns, tag, winner));
    if (outcome === 'applied') untaggedByPass.add(winner.digest);
    else stillTagged.add(winner.digest);
  }

  // 3. Revisions no surviving tag resolves, unless protected or kept by a rule as untagged images.
  // Every decision is taken before the first delete, on the same state in a dry run and a real one: a referrer
  // deleted first must not unprotect its subject within the pass.
  const revision = await fresh.revisions(ns);
  const digests = await fresh.revisionDigests(ns);
  const candidates = digests.filter((digest) => !stillTagged.has(digest));
  if (candidates.length === 0) return;
  const graph = await manifestGraph(fresh, ns, revision, digests);
  const planner = new UntaggedPlanner({ context, ns, judge, revision, lastPulled, graph, stillTagged, untaggedByPass });
  const planned: Array<{ digest: Digest; deletion: PlannedDeletion }> = [];
  for (const digest of candidates) {
    const deletion = await planner.deletion(digest);
    if (deletion !== undefined) planned.push({ digest, deletion });
  }
  for (const { digest, deletion } of planned) {
    await context.actions.run('delete revision', `'${ns}@${digest}' (policy)`, () => deleteRevisionIfUnneeded(context, ns, digest, deletion));
  }
}

/** Children listed by the namespace's revisions, and each revision's subject: what protection and referrers need. */
interface ManifestGraph {
  readonly children: ReadonlySet<Digest>;
  readonly subjects: ReadonlyMap<Digest, Digest>;
}

/**
 * Reads every revision's body once. A body missing or not parsing lists nothing (it protects nothing, as it could
 * not be pulled either); a storage error fails the namespace's pass, so nothing is deleted on partial knowledge.
 */
async function manifestGraph(fresh: ReadView, ns: Namespace, revision: RevisionLookup, digests: readonly Digest[]): Promise<ManifestGraph> {
  const children = new Set<Digest>();
  const subjects = new Map<Digest, Digest>();
  await mapLimited(digests, LOOKUP_CONCURRENCY, async (digest) => {
    const record = await revision(digest);
    if (record === undefined) return;
    let body: Buffer;
    try {
      body = await fresh.manifestBody(digest);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    try {
      const manifest = parseManifest(body, record.media_type);
      for (const child of manifest.manifests) children.add(child.digest);
      if (manifest.subject !== undefined) subjects.set(digest, manifest.subject.digest);
    } catch {
      log.debug(`retention: the body of '${ns}@${digest}' does not parse; it protects no child`);
    }
  });
  return { children, subjects };
}

/** What step 3 decides with: the pass so far and what step 1 and 2 found. */
interface PassState {
  readonly context: MaintenanceContext;
  readonly ns: Namespace;
  readonly judge: RetentionJudge;
  readonly revision: RevisionLookup;
  readonly lastPulled: LastPulled;
  readonly graph: ManifestGraph;
  /** Revisions a surviving tag resolves. */
  readonly stillTagged: ReadonlySet<Digest>;
  /** Revisions whose tags this pass deleted (or, in a dry run, would delete). */
  readonly untaggedByPass: ReadonlySet<Digest>;
}

/** What a planned revision delete was decided on, re-checked before it is applied. */
interface PlannedDeletion {
  readonly createdAt: string;
}

/**
 * Step 3's decisions (docs/operations.md, "Retention policies"). A revision is *kept* when a surviving tag resolves
 * it, another revision lists it as a child, a rule keeps it as an untagged image, it is too young to judge, or it is a
 * referrer of a kept subject (so signatures of kept images stay). A revision with a referrer record is never deleted,
 * but that alone does not make it kept: its referrers are judged on their own, and once they are gone so is it.
 */
class UntaggedPlanner {
  readonly #pass: PassState;
  readonly #kept = new Map<Digest, Promise<boolean>>();

  constructor(pass: PassState) {
    this.#pass = pass;
  }

  /** The deletion to run for a candidate, or undefined when it stays. */
  async deletion(digest: Digest): Promise<PlannedDeletion | undefined> {
    const record = await this.#pass.revision(digest);
    if (record === undefined) return undefined;
    if ((await this.#pass.context.registry.metadata.fresh.referrers(this.#pass.ns, digest)).length > 0) return undefined;
    if (await this.kept(digest)) return undefined;
    return { createdAt: record.created_at };
  }

  kept(digest: Digest): Promise<boolean> {
    let decided = this.#kept.get(digest);
    if (decided === undefined) {
      decided = this.#decide(digest);
      this.#kept.set(digest, decided);
    }
    return decided;
  }

  async #decide(digest: Digest): Promise<boolean> {
    if (this.#pass.stillTagged.has(digest) || this.#pass.graph.children.has(digest)) return true;
    const record = await this.#pass.revision(digest);
    if (record === undefined) return false;
    // Untagged before this pass and written within grace: perhaps a push between its revision record and its tags.
    if (!this.#pass.untaggedByPass.has(digest) && !(await this.#recordOlderThanGrace(digest))) {
      log.debug(`retention: '${this.#pass.ns}@${digest}' is untagged but younger than grace; left for a later pass`);
      return true;
    }
    const image = { tag: null, pushedAt: createdAtSeconds(record), lastPulledAt: seconds(await this.#pass.lastPulled({ kind: 'revision', digest })) };
    if (this.#pass.judge.keeps(image, `'${this.#pass.ns}@${digest}'`)) return true;
    const subject = this.#pass.graph.subjects.get(digest);
    return subject !== undefined && subject !== digest && (await this.kept(subject));
  }

  async #recordOlderThanGrace(digest: Digest): Promise<boolean> {
    try {
      const { lastModified } = await this.#pass.context.metaStore.head(revisionKeys.revision(this.#pass.ns, digest));
      return olderThan(this.#pass.context, lastModified);
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }
}

/** Apply-time check of a tag delete: the tag still holds the event it was judged on, and that revision still exists. */
async function deleteTagIfUnchanged(context: MaintenanceContext, ns: Namespace, tag: Tag, judged: TagEvent): Promise<'applied' | 'skipped'> {
  const fresh = context.registry.metadata.fresh;
  const now = await fresh.tagWinner(ns, tag);
  if (now === undefined || now.action !== 'set' || now.ord !== judged.ord || now.digest !== judged.digest) return 'skipped';
  if ((await (await fresh.revisions(ns))(judged.digest)) === undefined) return 'skipped';
  await context.registry.manifests.deleteTag(ns, tag, RETENTION_ACTOR);
  return 'applied';
}

/**
 * Apply-time check of a revision delete: the record is the one judged, and meanwhile no tag came to resolve it, no
 * live revision came to list it as a child and no referrer came to name it (a digest delete would take all of those
 * tags with it).
 */
async function deleteRevisionIfUnneeded(context: MaintenanceContext, ns: Namespace, digest: Digest, planned: PlannedDeletion): Promise<'applied' | 'skipped'> {
  const { registry } = context;
  const fresh = registry.metadata.fresh;
  const record = await (await fresh.revisions(ns))(digest);
  if (record === undefined || record.created_at !== planned.createdAt) return 'skipped';
  if ((await fresh.referrers(ns, digest)).length > 0) return 'skipped';
  if (await registry.access.referencedByLiveManifest(ns, digest, false)) return 'skipped';
  if (await taggedNow(context, ns, digest)) return 'skipped';
  await registry.manifests.deleteRevision(ns, digest, RETENTION_ACTOR);
  return 'applied';
}

/** Whether a tag of `ns` resolves to `digest` now, found through the manifest's `tag.<t>` reference keys. */
async function taggedNow(context: MaintenanceContext, ns: Namespace, digest: Digest): Promise<boolean> {
  for (const key of await listAll(context.metaStore, refKeys.links(digest, ns))) {
    const parsed = refKeys.parse(digest, key);
    if (parsed?.ns !== ns || parsed.link.kind !== 'tag') continue;
    if (await context.registry.access.isBacked(ns, digest, parsed.link)) return true;
  }
  return false;
}

/** Tags whose winner is a `set` whose revision exists, ascending, with that winner. */
async function liveTags(fresh: ReadView, ns: Namespace): Promise<LiveTag[]> {
  const revision = await fresh.revisions(ns);
  const sets: LiveTag[] = [];
  for await (const { tag, winner } of fresh.tagWinners(ns)) if (winner.action === 'set') sets.push({ tag, winner });
  const live = await mapLimited(sets, LOOKUP_CONCURRENCY, async ({ winner }) => (await revision(winner.digest)) !== undefined);
  return sets.filter((_, index) => live[index]);
}

/** Unix ms to the rules' Unix seconds; unknown or never is 0. */
function seconds(ms: number | undefined): number {
  return ms === undefined ? 0 : Math.floor(ms / 1000);
}

/** An untagged image's `pushed_at`: its revision record's `created_at`, 0 when missing or unparsable. */
function createdAtSeconds(record: RevisionRecord): number {
  const parsed = record.created_at === undefined ? undefined : parseSourceTimestamp(record.created_at);
  return parsed === undefined ? 0 : Math.floor(parsed.micros / 1_000_000);
}
