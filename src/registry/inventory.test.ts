import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { imageManifest } from '../../test/support/oci.ts';
import { parseDigest } from '../oci/digest.ts';
import { parseNamespace, type Namespace } from '../oci/name.ts';
import { parseTag } from '../oci/tag.ts';
import { openTestRegistry, pushTo, TEST_ACTOR } from './registry-fixture.ts';
import type { Registry } from './registry.ts';

async function openRegistry(t: TestContext): Promise<Registry> {
  const { registry, cleanup } = await openTestRegistry();
  t.after(cleanup);
  return registry;
}

function ns(value: string): Namespace {
  const parsed = parseNamespace(value);
  assert.ok(parsed, value);
  return parsed;
}

test('a repository lists itself and the namespaces below it that hold content or uploads, sorted', async (t) => {
  const registry = await openRegistry(t);
  await pushTo(registry, 'lib', 'v1', imageManifest());
  await pushTo(registry, 'lib/b', 'v1', imageManifest());
  await pushTo(registry, 'lib/a/deep', 'v1', imageManifest());
  await registry.uploads.start(ns('lib/uploading/only'));
  // Siblings sharing the text prefix and other repositories are not the repository's.
  await pushTo(registry, 'libx', 'v1', imageManifest());
  await pushTo(registry, 'other/lib', 'v1', imageManifest());
  await registry.uploads.start(ns('lib-x'));

  assert.deepEqual(await registry.inventory.namespaces(ns('lib')), ['lib', 'lib/a/deep', 'lib/b', 'lib/uploading/only']);
  assert.deepEqual(await registry.inventory.namespaces(ns('lib/a')), ['lib/a/deep']);
  assert.deepEqual(await registry.inventory.namespaces(ns('nothing')), []);
});

test('namespaces whose content or sessions are gone stop counting', async (t) => {
  const registry = await openRegistry(t);
  const manifest = imageManifest();
  await pushTo(registry, 'repo/gone', 'v1', manifest);
  const session = await registry.uploads.start(ns('repo/cancelled'));
  await pushTo(registry, 'repo/kept', 'v1', imageManifest());
  assert.deepEqual(await registry.inventory.namespaces(ns('repo')), ['repo/cancelled', 'repo/gone', 'repo/kept']);

  await registry.manifests.deleteRevision(ns('repo/gone'), parseDigest(manifest.digest), TEST_ACTOR);
  await registry.uploads.cancel(ns('repo/cancelled'), session);
  assert.deepEqual(await registry.inventory.namespaces(ns('repo')), ['repo/kept']);
});

test('summaries count live tags, revisions and open sessions', async (t) => {
  const registry = await openRegistry(t);
  const first = imageManifest();
  await pushTo(registry, 'team/app', 'a', first);
  await pushTo(registry, 'team/app', 'b', first);
  await pushTo(registry, 'team/app', 'c', imageManifest());
  const untagged = imageManifest();
  await pushTo(registry, 'team/app', untagged.digest, untagged);
  await registry.manifests.deleteTag(ns('team/app'), parseTag('c')!, TEST_ACTOR);
  await registry.uploads.start(ns('team/app'));
  await registry.uploads.start(ns('team/app'));
  await registry.uploads.start(ns('team/idle'));

  assert.deepEqual(await registry.inventory.summaries(ns('team')), [
    { name: 'team/app', tagCount: 2, manifestCount: 3, uploadCount: 2 },
    { name: 'team/idle', tagCount: 0, manifestCount: 0, uploadCount: 1 },
  ]);
});

test('upload listing shows open sessions sorted by id with their size and start time', async (t) => {
  const registry = await openRegistry(t);
  const name = ns('up/load');
  const started = Date.now();
  const ids = [await registry.uploads.start(name), await registry.uploads.start(name), await registry.uploads.start(name)];
  await registry.uploads.cancel(name, ids[1]!);

  const sessions = await registry.uploadListing.sessions(name);
  assert.deepEqual(
    sessions.map((s) => s.id),
    [ids[0]!, ids[2]!].sort(),
  );
  for (const session of sessions) {
    assert.equal(session.size, 0);
    assert.ok(Date.parse(session.startedAt) >= started - 1000, session.startedAt);
  }
  assert.deepEqual(await registry.uploadListing.sessions(ns('up/none')), []);
});
