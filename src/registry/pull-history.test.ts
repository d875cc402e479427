import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { imageManifest, type Manifest } from '../../test/support/oci.ts';
import { registrySettings, testRegistry } from '../../test/support/registry-settings.ts';
import { parseDigest, type Digest } from '../oci/digest.ts';
import type { MediaType } from '../oci/media-type.ts';
import { parseNamespace } from '../oci/name.ts';
import { parseReference } from '../oci/reference.ts';
import { parseTag } from '../oci/tag.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { openFsStore } from '../storage/open-store.ts';
import { listAll } from './json-record.ts';
import type { Actor, ManifestPulled, RegistryEvent, RegistryEventSink } from './events.ts';
import { accessKeys, ordOf, type AccessTarget } from './keys.ts';
import { clientHash, clientOf, MAX_PENDING_RECORDS } from './pull-history.ts';
import type { Registry } from './registry.ts';

const NS = parseNamespace('team/app')!;
const ALICE: Actor = { id: 'alice-id', username: 'alice', clientIp: '10.0.0.1' };
const ANONYMOUS: Actor = { clientIp: '10.0.0.2' };
const LATEST: AccessTarget = { kind: 'tag', tag: parseTag('latest')! };
const HOUR = 3_600_000;

interface Fixture {
  registry: Registry;
  store: ObjectStore;
  /** `update_pull_time`, read by the registry on every pull. */
  settings: { updatePullTime: boolean };
  /** Every event the outer sink received. */
  seen: RegistryEvent[];
}

async function open(t: TestContext, updatePullTime = true): Promise<Fixture> {
  const root = await mkdtemp(join(tmpdir(), 'angos-pull-history-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const store = openFsStore(root, false);
  const settings = { updatePullTime };
  const seen: RegistryEvent[] = [];
  const events: RegistryEventSink = { beforeCommit: async () => {}, committed: (event) => void seen.push(event) };
  const base = registrySettings();
  const registry = testRegistry(store, store, () => ({ ...base(), updatePullTime: settings.updatePullTime }), { events });
  return { registry, store, settings, seen };
}

async function push(registry: Registry, reference: string, manifest: Manifest): Promise<void> {
  const request = { reference: parseReference(reference)!, contentType: manifest.mediaType as MediaType, body: manifest.bytes, extraTags: [] };
  await registry.manifests.push(NS, request, { username: 'pusher' });
}

async function pull(registry: Registry, reference: string, actor: Actor, withBody = true): Promise<void> {
  await registry.manifests.pull(NS, parseReference(reference)!, actor, { withBody });
}

function pulledAt(digest: Digest, reference: string, actor: Actor, atMs: number): ManifestPulled {
  return { kind: 'manifest-pulled', namespace: NS, actor, authoredAt: atMs * 1000, reference: parseReference(reference)!, digest, mediaType: 'application/vnd.oci.image.manifest.v1+json' as MediaType };
}

async function accessKeysIn(store: ObjectStore): Promise<string[]> {
  return listAll(store, accessKeys.namespace(NS));
}

test('a pull by tag is recorded under the tag, one by digest under the revision, GET and HEAD alike', async (t) => {
  const { registry, store, seen } = await open(t);
  const image = imageManifest();
  const digest = parseDigest(image.digest);
  await push(registry, 'latest', image);
  const before = Date.now();
  await pull(registry, 'latest', ALICE);
  await pull(registry, image.digest, ANONYMOUS, false);
  await registry.pullHistory.settled();

  const revision: AccessTarget = { kind: 'revision', digest };
  const byTag = await registry.pullHistory.entries(NS, LATEST, { limit: 100 });
  const byDigest = await registry.pullHistory.entries(NS, revision, { limit: 100 });
  assert.deepEqual(byTag.map((entry) => entry.client), ['alice']);
  assert.deepEqual(byDigest.map((entry) => entry.client), ['anonymous']);
  for (const entry of [...byTag, ...byDigest]) assert.ok(entry.at >= before && entry.at <= Date.now(), String(entry.at));
  // A tag pull does not stamp its revision: exactly one key per pull.
  assert.equal((await accessKeysIn(store)).length, 2);
  assert.equal(await registry.pullHistory.lastPulledAt(NS, LATEST), byTag[0]!.at);
  assert.equal(await registry.pullHistory.lastPulledAt(NS, { kind: 'tag', tag: parseTag('other')! }), undefined);
  const tagKey = accessKeys.entry(NS, LATEST, { ord: ordOf(byTag[0]!.at), clientHash: clientHash('alice') });
  const stored = JSON.parse((await store.get(tagKey)).toString('utf8')) as unknown;
  assert.deepEqual(stored, { client: 'alice', at: new Date(byTag[0]!.at).toISOString() });
  // The outer sink still received every event: the push and both pulls.
  assert.deepEqual(seen.map((event) => event.kind), ['manifest-pushed', 'manifest-pulled', 'manifest-pulled']);
});

test('nothing is recorded while update_pull_time is off, and turning it on applies to the next pull', async (t) => {
  const { registry, store, settings } = await open(t, false);
  const image = imageManifest();
  await push(registry, 'latest', image);
  await pull(registry, 'latest', ALICE);
  await pull(registry, image.digest, ALICE);
  await registry.pullHistory.settled();
  assert.deepEqual(await accessKeysIn(store), []);
  assert.equal(await registry.pullHistory.holdsEntries(NS), false);

  settings.updatePullTime = true;
  await pull(registry, 'latest', ALICE);
  await registry.pullHistory.settled();
  assert.equal((await accessKeysIn(store)).length, 1);
  assert.equal(await registry.pullHistory.holdsEntries(NS), true);
});

test('the same client in the same millisecond is one entry; another client or millisecond is another', async (t) => {
  const { registry, store } = await open(t);
  const image = imageManifest();
  const digest = parseDigest(image.digest);
  const now = Date.now();
  for (const [actor, at] of [[ALICE, now], [ALICE, now], [{ username: 'alice', clientIp: '10.9.9.9' }, now], [ANONYMOUS, now], [ALICE, now + 1]] as const) {
    registry.pullHistory.record(pulledAt(digest, 'latest', actor, at));
  }
  await registry.pullHistory.settled();
  const keys = await accessKeysIn(store);
  assert.deepEqual(keys, [
    accessKeys.entry(NS, LATEST, { ord: ordOf(now + 1), clientHash: clientHash('alice') }),
    ...[clientHash('alice'), clientHash('anonymous')].sort().map((hash) => accessKeys.entry(NS, LATEST, { ord: ordOf(now), clientHash: hash })),
  ]);
});

test('the client is the username, else the identity, else anonymous, cut to 256 characters', () => {
  assert.equal(clientOf(ALICE), 'alice');
  assert.equal(clientOf({ id: 'ci' }), 'ci');
  assert.equal(clientOf(ANONYMOUS), 'anonymous');
  assert.equal(clientOf({ username: 'é'.repeat(300) }), 'é'.repeat(256));
  assert.match(clientHash('alice'), /^[0-9a-f]{8}$/);
});

test('writes in flight are bounded: past the bound a pull goes unrecorded', async (t) => {
  const { registry, store } = await open(t);
  const digest = parseDigest(imageManifest().digest);
  const now = Date.now();
  const extra = 50;
  for (let i = 0; i < MAX_PENDING_RECORDS + extra; i++) registry.pullHistory.record(pulledAt(digest, 'latest', { username: `client-${i}` }, now));
  await registry.pullHistory.settled();
  assert.equal((await accessKeysIn(store)).length, MAX_PENDING_RECORDS);
  // Once they are written, pulls are recorded again.
  registry.pullHistory.record(pulledAt(digest, 'latest', ALICE, now + 1));
  await registry.pullHistory.settled();
  assert.equal((await accessKeysIn(store)).length, MAX_PENDING_RECORDS + 1);
});

test('entries come newest first, bounded by count and age; superseded keeps the newest and names older ones past the window', async (t) => {
  const { registry, store } = await open(t);
  const digest = parseDigest(imageManifest().digest);
  const now = Date.now();
  const times = [now - 3 * HOUR, now - 2 * HOUR, now - 10 * 60_000, now];
  for (const [i, at] of times.entries()) registry.pullHistory.record(pulledAt(digest, 'latest', { username: `c${i}` }, at));
  // A target whose only entries are old: the newest stays, whatever its age.
  const stale: AccessTarget = { kind: 'revision', digest };
  for (const at of [now - 5 * HOUR, now - 4 * HOUR]) registry.pullHistory.record(pulledAt(digest, digest, ALICE, at));
  await registry.pullHistory.settled();

  const history = registry.pullHistory;
  assert.deepEqual((await history.entries(NS, LATEST, { limit: 100 })).map((e) => [e.client, e.at]), [['c3', now], ['c2', now - 10 * 60_000], ['c1', now - 2 * HOUR], ['c0', now - 3 * HOUR]]);
  assert.deepEqual((await history.entries(NS, LATEST, { limit: 2 })).map((e) => e.client), ['c3', 'c2']);
  assert.deepEqual((await history.entries(NS, LATEST, { limit: 100, since: now - HOUR })).map((e) => e.client), ['c3', 'c2']);

  const superseded = await history.superseded(NS, LATEST, HOUR, now);
  assert.deepEqual(superseded.map((e) => e.at), [now - 2 * HOUR, now - 3 * HOUR]);
  assert.deepEqual((await history.superseded(NS, stale, HOUR, now)).map((e) => e.at), [now - 5 * HOUR]);
  assert.deepEqual(await history.superseded(NS, LATEST, 4 * HOUR, now), []);

  for (const entry of superseded) await registry.metadata.writes.deleteAccessEntry(NS, LATEST, entry.name);
  assert.deepEqual((await history.entries(NS, LATEST, { limit: 100 })).map((e) => e.client), ['c3', 'c2']);
  assert.deepEqual(await history.superseded(NS, LATEST, HOUR, now), []);
  assert.equal((await accessKeysIn(store)).length, 4);
});

test('targets lists every tag and revision with entries', async (t) => {
  const { registry } = await open(t);
  const digest = parseDigest(imageManifest().digest);
  const now = Date.now();
  for (const reference of ['v1', 'latest', 'v1-rc', digest]) registry.pullHistory.record(pulledAt(digest, reference, ALICE, now));
  await registry.pullHistory.settled();
  const targets: AccessTarget[] = [];
  for await (const target of registry.pullHistory.targets(NS)) targets.push(target);
  assert.deepEqual(targets, [
    { kind: 'tag', tag: 'latest' },
    { kind: 'tag', tag: 'v1' },
    { kind: 'tag', tag: 'v1-rc' },
    { kind: 'revision', digest },
  ]);
  const none: AccessTarget[] = [];
  for await (const target of registry.pullHistory.targets(parseNamespace('team/none')!)) none.push(target);
  assert.deepEqual(none, []);
});

test('revisions list last_pulled_at: pulls by digest and through a tag since it moved there', async (t) => {
  const { registry } = await open(t);
  const first = imageManifest();
  const second = imageManifest();
  await push(registry, 'latest', first);
  await push(registry, 'pinned', second);
  const now = Date.now();
  const history = registry.pullHistory;
  // `latest` pulled now, when it is on `first`; `second` by digest earlier.
  history.record(pulledAt(parseDigest(first.digest), 'latest', ALICE, now + 5));
  history.record(pulledAt(parseDigest(second.digest), second.digest, ALICE, now - HOUR));
  await history.settled();
  const listed = async () => new Map((await registry.revisionListing.list(NS)).map((entry) => [entry.digest, entry.lastPulledAt]));
  let last = await listed();
  assert.equal(last.get(parseDigest(first.digest)), new Date(now + 5).toISOString());
  assert.equal(last.get(parseDigest(second.digest)), new Date(now - HOUR).toISOString());

  // `latest` moves to `second`: its earlier pull was of `first`, not of `second`.
  await new Promise((resolve) => setTimeout(resolve, 10));
  await push(registry, 'latest', second);
  last = await listed();
  assert.equal(last.get(parseDigest(first.digest)), undefined);
  assert.equal(last.get(parseDigest(second.digest)), new Date(now - HOUR).toISOString());
});
