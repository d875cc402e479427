// Write-once immutable tags under concurrency (docs/storage.md, "Immutable tags"): racing first pushes of different
// manifests, in one registry and in two sharing a root, leave exactly one winner; pushes of the winner's digest go
// through; a claim whose push died is taken over after a while.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { imageManifest, type Manifest } from '../../test/support/oci.ts';
import { registrySettings, TEST_ACTOR, testRegistry } from '../../test/support/registry-settings.ts';
import type { MediaType } from '../oci/media-type.ts';
import { parseNamespace, type Namespace } from '../oci/name.ts';
import { parseTag, type Tag } from '../oci/tag.ts';
import { FsObjectStore } from '../storage/fs/fs-object-store.ts';
import { isRegistryError } from './errors.ts';
import { claimKeys } from './keys.ts';
import type { Registry } from './registry.ts';
import { createHash } from 'node:crypto';

const settings = registrySettings({ isImmutable: () => true });
const ns = (name: string): Namespace => parseNamespace(name)!;
const tag = (name: string): Tag => parseTag(name)!;

function push(registry: Registry, where: Namespace, name: string, manifest: Manifest) {
  return registry.manifests.push(where, { reference: { kind: 'tag', tag: tag(name) }, contentType: manifest.mediaType as MediaType, body: manifest.bytes, extraTags: [] }, TEST_ACTOR);
}

/** Outcomes of all pushes: how many succeeded, how many were refused as immutable; anything else fails the test. */
async function outcomes(pushes: Array<Promise<unknown>>): Promise<{ won: number; refused: number }> {
  const settled = await Promise.allSettled(pushes);
  const refused = settled.filter((s) => s.status === 'rejected' && isRegistryError(s.reason, 'immutable-tag')).length;
  const won = settled.filter((s) => s.status === 'fulfilled').length;
  assert.equal(won + refused, settled.length, `unexpected failures: ${settled.filter((s) => s.status === 'rejected' && !isRegistryError(s.reason, 'immutable-tag')).map((s) => String((s as PromiseRejectedResult).reason)).join('; ')}`);
  return { won, refused };
}

describe('immutable tags under concurrency', () => {
  let root: string;
  let one: Registry;
  let two: Registry;
  let store: FsObjectStore;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'angos-immutable-'));
    store = new FsObjectStore({ rootDir: root });
    one = testRegistry(store, store, settings);
    const other = new FsObjectStore({ rootDir: root });
    two = testRegistry(other, other, settings);
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('50 racing first pushes of different manifests in one registry: exactly one stands', async () => {
    const manifests = Array.from({ length: 50 }, () => imageManifest());
    const result = await outcomes(manifests.map((m) => push(one, ns('race/one'), 'v1', m)));
    assert.deepEqual(result, { won: 1, refused: 49 });
    const held = await one.manifests.stat(ns('race/one'), { kind: 'tag', tag: tag('v1') });
    assert.ok(manifests.some((m) => m.digest === held.digest));
  });

  it('50 racing first pushes split over two registries on one root: exactly one stands, both see it', async () => {
    const manifests = Array.from({ length: 50 }, () => imageManifest());
    const result = await outcomes(manifests.map((m, i) => push(i % 2 === 0 ? one : two, ns('race/two'), 'v1', m)));
    assert.deepEqual(result, { won: 1, refused: 49 });
    const fromOne = await one.manifests.stat(ns('race/two'), { kind: 'tag', tag: tag('v1') });
    const fromTwo = await two.manifests.stat(ns('race/two'), { kind: 'tag', tag: tag('v1') });
    assert.equal(fromOne.digest, fromTwo.digest);
  });

  it('racing pushes of the same manifest all succeed', async () => {
    const manifest = imageManifest();
    assert.deepEqual(await outcomes(Array.from({ length: 20 }, (_, i) => push(i % 2 === 0 ? one : two, ns('race/same'), 'v1', manifest))), { won: 20, refused: 0 });
  });

  it('a claim whose push died is taken over once stale; a fresh one is not', async () => {
    const state = createHash('sha256').update('none').digest('hex').slice(0, 32);
    const dead = imageManifest();
    const later = imageManifest();
    await store.put(claimKeys.claim(ns('race/stale'), tag('v1'), state, 0), JSON.stringify({ digest: dead.digest, claimed_at: new Date(Date.now() - 3_600_000).toISOString() }));
    await push(one, ns('race/stale'), 'v1', later);
    assert.equal((await one.manifests.stat(ns('race/stale'), { kind: 'tag', tag: tag('v1') })).digest, later.digest);

    await store.put(claimKeys.claim(ns('race/fresh'), tag('v1'), state, 0), JSON.stringify({ digest: dead.digest, claimed_at: new Date().toISOString() }));
    await assert.rejects(push(one, ns('race/fresh'), 'v1', later), (err: unknown) => isRegistryError(err, 'immutable-tag'));
  });

  it('after the tag is deleted, the next first push may be another manifest', async () => {
    const [first, second, third] = [imageManifest(), imageManifest(), imageManifest()];
    await push(one, ns('race/again'), 'v1', first);
    await one.manifests.deleteTag(ns('race/again'), tag('v1'), TEST_ACTOR);
    assert.deepEqual(await outcomes([push(one, ns('race/again'), 'v1', second), push(two, ns('race/again'), 'v1', third)]), { won: 1, refused: 1 });
  });
});
