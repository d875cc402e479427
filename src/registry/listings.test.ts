// Listings reuse what they computed while the namespace's tag and revision directories are unchanged: a change by
// another process (a second Registry on the same root) must show at once, even after the results were reused.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, it } from 'node:test';
import { imageManifest } from '../../test/support/oci.ts';
import { TEST_ACTOR, registrySettings, testRegistry } from '../../test/support/registry-settings.ts';
import type { MediaType } from '../oci/media-type.ts';
import { parseNamespace } from '../oci/name.ts';
import { parseTag } from '../oci/tag.ts';
import { FsObjectStore } from '../storage/fs/fs-object-store.ts';
import { Registry } from './registry.ts';

const settings = registrySettings();
const where = parseNamespace('memo/app')!;
/** Outlasts the window in which the filesystem store does not vouch for a just-changed directory. */
const settle = () => sleep(1100);

let root: string;
let reader: Registry;
let writer: Registry;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'angos-listings-'));
  reader = testRegistry(new FsObjectStore({ rootDir: root }), new FsObjectStore({ rootDir: root }), settings);
  writer = testRegistry(new FsObjectStore({ rootDir: root }), new FsObjectStore({ rootDir: root }), settings);
});
after(() => rm(root, { recursive: true, force: true }));

async function push(registry: Registry, tag: string, seed: string, ns = where) {
  const manifest = imageManifest({ annotations: { seed } });
  return registry.manifests.push(ns, {
    reference: { kind: 'tag', tag: parseTag(tag)! },
    contentType: manifest.mediaType as MediaType,
    body: manifest.bytes,
    extraTags: [],
  }, TEST_ACTOR);
}

const tagsOf = async (registry: Registry) => (await registry.listings.tagPage(where, 100, undefined)).items;

it('tags list and tag resolution follow other writers after the results were reused', async () => {
  const first = await push(writer, 'a', '1');
  await push(writer, 'b', '2');
  await settle();
  assert.deepEqual(await tagsOf(reader), ['a', 'b']);
  assert.deepEqual(await tagsOf(reader), ['a', 'b'], 'reused');
  assert.deepEqual(await reader.listings.tagPage(where, 1, 'a'), { items: ['b'], more: false });

  await writer.manifests.deleteTag(where, parseTag('a')!, TEST_ACTOR);
  assert.deepEqual(await tagsOf(reader), ['b'], 'a tag deleted elsewhere is gone at once');
  await settle();
  assert.deepEqual(await tagsOf(reader), ['b']);

  const moved = await push(writer, 'b', '3');
  assert.equal((await reader.manifests.stat(where, { kind: 'tag', tag: parseTag('b')! })).digest, moved.digest);
  await settle();
  assert.equal((await reader.manifests.stat(where, { kind: 'tag', tag: parseTag('b')! })).digest, moved.digest);

  await push(writer, 'c', '1');
  await writer.manifests.deleteRevision(where, moved.digest, TEST_ACTOR);
  assert.deepEqual(await tagsOf(reader), ['c'], 'a revision deleted elsewhere takes its tag along at once');
  assert.equal((await reader.manifests.stat(where, { kind: 'digest', digest: first.digest })).digest, first.digest);
  await assert.rejects(reader.manifests.stat(where, { kind: 'digest', digest: moved.digest }));
});

it('the catalog follows namespaces added and emptied by other writers after it was reused', async () => {
  const catalog = async (n = 100, last?: string) => (await reader.listings.catalogPage(n, last)).items;
  const deep = parseNamespace('memo/deep/one')!;
  await push(writer, 'v1', 'x', parseNamespace('memo/other')!);
  await settle();
  const before = await catalog();
  assert.deepEqual(await catalog(), before, 'reused');
  assert.ok(!before.includes(deep));

  // No read between the change and the settled read: the reused listing itself must notice the change.
  const pushed = await push(writer, 'v1', 'y', deep);
  await settle();
  const withDeep = await catalog();
  assert.ok(withDeep.includes(deep), 'a namespace added below a new directory elsewhere shows');
  assert.deepEqual(withDeep, [...withDeep].sort());
  const at = withDeep.indexOf(deep);
  assert.deepEqual(await catalog(1, withDeep[at - 1]), [deep], 'paging resumes after `last`');

  await writer.manifests.deleteRevision(deep, pushed.digest, TEST_ACTOR);
  await settle();
  assert.ok(!(await catalog()).includes(deep), 'a namespace emptied elsewhere leaves the catalog');
});
