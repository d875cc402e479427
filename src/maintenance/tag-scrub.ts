// `scrub --tags` (docs/operations.md, "scrub checks"): keys filed under a name that is no tag are removed; per tag
// whose winning event is a `set` older than grace, a manifest whose bytes vanished is deleted by digest and a
// revision record that vanished is recreated from the body; superseded pulls of tags are collected. Superseded tag
// events are not demoted to a history prefix: this layout keeps every event in place (docs/storage.md, "Tags").
import { logger } from '../observability/logging.ts';
import type { Digest } from '../oci/digest.ts';
import type { Namespace } from '../oci/name.ts';
import { isTag, type Tag } from '../oci/tag.ts';
import { awaitNoReclamation } from '../registry/gc-fence.ts';
import { accessKeys, tagKeys, timeOfOrd, type TagEvent } from '../registry/keys.ts';
import type { TagWinner } from '../registry/metadata/records.ts';
import type { MaintenanceContext } from './context.ts';
import { childrenUnder, keysUnder } from './key-listing.ts';
import { collectSupersededPulls } from './pull-collection.ts';
import { bytesExist, deleteByDigest, keyTime, oldKey, parseObject, readManifest, readRecord, readText, recordFrom } from './revision-state.ts';
import type { NamespaceCheck } from './scrub.ts';

const log = logger('angos::maintenance::scrub');

export const tagsCheck: NamespaceCheck = {
  flag: '--tags',
  run: async (context, ns) => {
    await dropStrayTagKeys(context, ns);
    await repairTagTargets(context, ns);
    await collectSupersededPulls(context, ns, 'tag');
  },
};

/**
 * Keys under the namespace's tag events and tag pull history whose name breaks the tag grammar: no request can write
 * them and every read skips them, so they are only clutter. One action per name, for its keys older than grace.
 */
async function dropStrayTagKeys(context: MaintenanceContext, ns: Namespace): Promise<void> {
  const { metaStore } = context;
  const stray = new Map<string, string[]>();
  const add = (name: string, key: string) => stray.set(name, [...(stray.get(name) ?? []), key]);
  for await (const key of keysUnder(metaStore, tagKeys.namespace(ns))) {
    if (tagKeys.parseEvent(key) !== undefined) continue;
    const name = tagKeys.nameOf(ns, key) ?? '';
    if (isTag(name)) log.warn('tag event key does not parse; left alone', { key });
    else add(name, key);
  }
  for await (const child of childrenUnder(metaStore, accessKeys.tags(ns))) {
    if (accessKeys.parseTagChild(child.name) !== undefined) continue;
    // A child is `<tag>!` (a prefix of entries); anything else listed here is stray too.
    const under = `${accessKeys.tags(ns)}/${child.name.replace(/\/$/, '')}`;
    const name = child.name.replace(/!?\/?$/, '');
    if (!child.isPrefix) add(name, under);
    else for await (const key of keysUnder(metaStore, under)) add(name, key);
  }
  for (const [name, keys] of stray) {
    const oldKeys = async () => {
      const old = await Promise.all(keys.map((key) => oldKey(context, metaStore, key)));
      return keys.filter((_, i) => old[i]);
    };
    if ((await oldKeys()).length === 0) continue;
    await context.actions.run('delete invalid tag', `'${ns}:${name}' (${keys.length} keys)`, async () => {
      const due = await oldKeys();
      if (due.length === 0) return 'skipped';
      for (const key of due) await context.registry.metadata.writes.deleteStrayTagKey(key);
      return 'applied';
    });
  }
}

/** Every tag whose winner is a `set`, grouped by the digest it names, each digest checked once. */
async function repairTagTargets(context: MaintenanceContext, ns: Namespace): Promise<void> {
  const byDigest = new Map<Digest, TagWinner[]>();
  for await (const entry of context.registry.metadata.fresh.tagWinners(ns)) {
    if (entry.winner.action === 'set') byDigest.set(entry.winner.digest, [...(byDigest.get(entry.winner.digest) ?? []), entry]);
  }
  for (const [digest, winners] of byDigest) {
    try {
      await repairTarget(context, ns, digest, winners.map(({ tag }) => tag));
    } catch (err) {
      context.actions.failed(`check the tags of '${ns}@${digest}'`, err);
    }
  }
}

/** Of `tags`, those whose winner (read fresh) is still a `set` of `digest` written at least grace ago. */
async function oldTagsOn(context: MaintenanceContext, ns: Namespace, digest: Digest, tags: readonly Tag[]): Promise<Array<{ tag: Tag; winner: TagEvent }>> {
  const winners = await context.registry.metadata.fresh.tagWinnersOf(ns, tags);
  const found: Array<{ tag: Tag; winner: TagEvent }> = [];
  for (const tag of tags) {
    const winner = winners.get(tag);
    if (winner?.action === 'set' && winner.digest === digest && (await oldKey(context, context.metaStore, tagKeys.event(ns, tag, winner)))) found.push({ tag, winner });
  }
  return found;
}

async function repairTarget(context: MaintenanceContext, ns: Namespace, digest: Digest, tags: readonly Tag[]): Promise<void> {
  const { blobStore, metaStore, registry } = context;
  const old = await oldTagsOn(context, ns, digest, tags);
  if (old.length === 0) return;
  const names = old.map(({ tag }) => tag).join(', ');

  if (!(await bytesExist(blobStore, digest))) {
    await context.actions.run('delete revision', `'${ns}@${digest}' (manifest bytes missing; tags ${names})`, async () => {
      if ((await bytesExist(blobStore, digest)) || (await oldTagsOn(context, ns, digest, tags)).length === 0) return 'skipped';
      await deleteByDigest(context, ns, digest);
      return 'applied';
    });
    return;
  }

  if ((await readRecord(context, ns, digest)).kind !== 'absent') return;
  const hint = parseObject((await readText(metaStore, tagKeys.event(ns, old[0]!.tag, old[0]!.winner))) ?? '')?.media_type;
  const body = await readManifest(blobStore, digest, typeof hint === 'string' ? hint : undefined);
  if (body.kind !== 'parsed') {
    log.warn('tagged manifest has no revision record and its body does not parse; left alone', { namespace: ns, digest, tags: names, reason: body.kind === 'unparsable' ? body.reason : body.kind });
    return;
  }
  const createdAt = await entryTime(context, ns, old);
  await context.actions.run('recreate revision record', `'${ns}@${digest}' (tags ${names})`, async () => {
    const still = await oldTagsOn(context, ns, digest, tags);
    if (still.length === 0 || (await readRecord(context, ns, digest)).kind !== 'absent' || !(await bytesExist(blobStore, digest))) return 'skipped';
    // As a push writes them: reference keys, the collector fence, then the record that makes the digest resolve.
    await Promise.all([
      registry.access.link(ns, digest, { kind: 'rev' }),
      ...still.map(({ tag }) => registry.access.link(ns, digest, { kind: 'tag', tag })),
    ]);
    // Having waited for a collector, the bytes and these keys may be gone: leave it to the next run.
    if (await awaitNoReclamation(metaStore, [digest])) return 'skipped';
    await registry.metadata.writes.putRevision(ns, digest, recordFrom(body, createdAt));
    return 'applied';
  });
}

/** The time of the earliest winning entry (when the revision existed at the latest); untimed entries: their key's time. */
async function entryTime(context: MaintenanceContext, ns: Namespace, winners: ReadonlyArray<{ tag: Tag; winner: TagEvent }>): Promise<string> {
  const times = winners.map(({ winner }) => timeOfOrd(winner.ord)).filter((ms) => ms !== undefined);
  if (times.length > 0) return new Date(Math.min(...times)).toISOString();
  const first = winners[0]!;
  const at = await keyTime(context.metaStore, tagKeys.event(ns, first.tag, first.winner));
  return (at ?? new Date(context.now())).toISOString();
}
