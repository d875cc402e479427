import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { imageManifest, type Manifest } from '../../test/support/oci.ts';
import { parseDigest } from '../oci/digest.ts';
import type { MediaType } from '../oci/media-type.ts';
import { parseNamespace, type Namespace } from '../oci/name.ts';
import { parseReference } from '../oci/reference.ts';
import { parseTag } from '../oci/tag.ts';
import { openFsStore } from '../storage/open-store.ts';
import { Registry } from './registry.ts';

async function openRegistry(t: TestContext): Promise<Registry> {
  const root = await mkdtemp(join(tmpdir(), 'angos-inventory-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const store = openFsStore(root, false);
  return new Registry(store, store, () => ({
    maxManifestSize: 1 << 20,
    maxBlobSize: 1 << 20,
    allowMissingManifestReferences: true,
    isImmutable: () => false,
  }));
}

function ns(value: string): Namespace {
  const parsed = parseNamespace(value);
  assert.ok(parsed, value);
  return parsed;
}

async function push(registry: Registry, name: string, reference: string, manifest: Manifest): Promise<void> {
  await registry.manifests.push(ns(name), {
    reference: parseReference(reference)!,
    contentType: manifest.mediaType as MediaType,
    body: manifest.bytes,
    extraTags: [],
  });
}

test('a repository lists itself and the namespaces below it that hold content or uploads, sorted', async (t) => {
  const registry = await openRegistry(t);
  await push(registry, 'lib', 'v1', imageManifest());
  await push(registry, 'lib/b', 'v1', imageManifest());
  await push(registry, 'lib/a/deep', 'v1', imageManifest());
  await registry.uploads.start(ns('lib/uploading/only'));
  // Siblings sharing the text prefix and other repositories are not the repository's.
  await push(registry, 'libx', 'v1', imageManifest());
  await push(registry, 'other/lib', 'v1', imageManifest());
  await registry.uploads.start(ns('lib-x'));

  assert.deepEqual(await registry.inventory.namespaces(ns('lib')), ['lib', 'lib/a/deep', 'lib/b', 'lib/uploading/only']);
  assert.deepEqual(await registry.inventory.namespaces(ns('lib/a')), ['lib/a/deep']);
  assert.deepEqual(await registry.inventory.namespaces(ns('nothing')), []);
});

test('namespaces whose content or sessions are gone stop counting', async (t) => {
  const registry = await openRegistry(t);
  const manifest = imageManifest();
  await push(registry, 'repo/gone', 'v1', manifest);
  const session = await registry.uploads.start(ns('repo/cancelled'));
  await push(registry, 'repo/kept', 'v1', imageManifest());
  assert.deepEqual(await registry.inventory.namespaces(ns('repo')), ['repo/cancelled', 'repo/gone', 'repo/kept']);

  await registry.manifests.deleteRevision(ns('repo/gone'), parseDigest(manifest.digest));
  await registry.uploads.cancel(ns('repo/cancelled'), session);
  assert.deepEqual(await registry.inventory.namespaces(ns('repo')), ['repo/kept']);
});

test('summaries count live tags, revisions and open sessions', async (t) => {
  const registry = await openRegistry(t);
  const first = imageManifest();
  await push(registry, 'team/app', 'a', first);
  await push(registry, 'team/app', 'b', first);
  await push(registry, 'team/app', 'c', imageManifest());
  const untagged = imageManifest();
  await push(registry, 'team/app', untagged.digest, untagged);
  await registry.manifests.deleteTag(ns('team/app'), parseTag('c')!);
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
