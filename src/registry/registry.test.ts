// The registry domain over a real filesystem store, without HTTP: tag resolution, uploads continued by another
// process (a second Registry on the same root), per-namespace visibility, and the push/delete waves.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { content, imageIndex, imageManifest, manifestDescriptor, OCI_INDEX, OCI_LAYER, sha512 } from '../../test/support/oci.ts';
import { TEST_ACTOR, registrySettings, testRegistry } from '../../test/support/registry-settings.ts';
import { parseDigest, type Digest } from '../oci/digest.ts';
import type { MediaType } from '../oci/media-type.ts';
import { parseNamespace, type Namespace } from '../oci/name.ts';
import { parseTag, type Tag } from '../oci/tag.ts';
import { FsObjectStore } from '../storage/fs/fs-object-store.ts';
import { Registry } from './registry.ts';
import { isRegistryError, type RegistryErrorKind } from './errors.ts';
import { blobKeys, gcKeys, ordOf, type TagAction } from './keys.ts';
import { openMetadataLayer } from './metadata/layer.ts';
import { targetOf } from './metadata/records.ts';

const ns = (name: string): Namespace => parseNamespace(name)!;
const tag = (name: string): Tag => parseTag(name)!;
const digest = (value: string): Digest => parseDigest(value);
const body = (text: string | Buffer) => ({ body: Readable.from([Buffer.from(text)]), range: undefined, length: Buffer.byteLength(text) });


describe('registry domain', () => {
  let root: string;
  let store: FsObjectStore;
  let registry: Registry;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'angos-registry-'));
    store = new FsObjectStore({ rootDir: root });
    registry = testRegistry(store, store, registrySettings());
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function pushBlob(into: Namespace, text: string): Promise<Digest> {
    const blob = content(text);
    await registry.uploads.monolithic(into, digest(blob.digest), Readable.from([blob.bytes]), blob.size, TEST_ACTOR);
    return digest(blob.digest);
  }

  describe('tag resolution (last writer wins by key order)', () => {
    const a = digest(content('a').digest);
    const b = digest(content('b').digest);
    const [low, high] = a < b ? [a, b] : [b, a];

    /** Tag events appended and resolved through the read layer, as pushes and deletes do. */
    function tagEvents() {
      const layer = openMetadataLayer(store, store);
      return {
        append: (where: string, name: string, action: TagAction, target: Digest, timeMs: number) =>
          layer.writes.appendTagEvent(ns(where), tag(name), { ord: ordOf(timeMs), action, digest: target }, {}),
        resolve: async (where: string, name: string) => targetOf(await layer.fresh.tagWinner(ns(where), tag(name))),
      };
    }

    it('the newest event wins, whatever the order of writing', async () => {
      const tags = tagEvents();
      await tags.append('lww/one', 't', 'set', high, 2000);
      await tags.append('lww/one', 't', 'set', low, 1000);
      assert.deepEqual(await tags.resolve('lww/one', 't'), { digest: high, createdAt: 2000 });
    });

    it('in the same millisecond the higher digest wins, and set beats del', async () => {
      const tags = tagEvents();
      await tags.append('lww/two', 't', 'set', low, 5000);
      await tags.append('lww/two', 't', 'set', high, 5000);
      assert.equal((await tags.resolve('lww/two', 't'))?.digest, high);
      await tags.append('lww/two', 't', 'del', high, 5000);
      assert.equal((await tags.resolve('lww/two', 't'))?.digest, high);
    });

    it('a newer del makes the tag absent; a newer set brings it back', async () => {
      const tags = tagEvents();
      await tags.append('lww/three', 't', 'set', low, 1000);
      await tags.append('lww/three', 't', 'del', low, 2000);
      assert.equal(await tags.resolve('lww/three', 't'), undefined);
      await tags.append('lww/three', 't', 'set', high, 3000);
      assert.equal((await tags.resolve('lww/three', 't'))?.digest, high);
    });
  });

  describe('uploads', () => {
    it('a session continues on another process: the second one re-hashes what the first stored', async () => {
      const other = testRegistry(new FsObjectStore({ rootDir: root }), new FsObjectStore({ rootDir: root }), registrySettings());
      const where = ns('up/shared');
      const id = await registry.uploads.start(where);
      assert.equal(await registry.uploads.append(where, id, body('hello ')), 6);
      assert.equal(await other.uploads.append(where, id, body('wide ')), 11);
      assert.equal(await registry.uploads.append(where, id, body('world')), 16);
      const full = content('hello wide world');
      await other.uploads.complete(where, id, digest(full.digest), { body: undefined, range: undefined, length: undefined }, TEST_ACTOR);
      assert.equal((await registry.blobs.stat(where, digest(full.digest))).size, 16);
      await assert.rejects(registry.uploads.status(where, id), kindIs('blob-upload-unknown'));
    });

    it('an unbound session closes under sha512; a sha512-bound one refuses a sha256 digest', async () => {
      const where = ns('up/algorithms');
      const text = `sha512-${Date.now()}`;
      const unbound = await registry.uploads.start(where);
      await registry.uploads.append(where, unbound, body(text));
      await registry.uploads.complete(where, unbound, digest(sha512(Buffer.from(text))), { body: undefined, range: undefined, length: undefined }, TEST_ACTOR);
      assert.equal((await registry.blobs.stat(where, digest(sha512(Buffer.from(text))))).size, text.length);

      const bound = await registry.uploads.start(where, 'sha512');
      await registry.uploads.append(where, bound, body('x'));
      await assert.rejects(
        registry.uploads.complete(where, bound, digest(content('x').digest), { body: undefined, range: undefined, length: undefined }, TEST_ACTOR),
        kindIs('digest-mismatch'),
      );
      await assert.rejects(registry.uploads.status(where, bound), kindIs('blob-upload-unknown'));
    });

    it('a chunk that does not start at the committed size is refused and nothing is appended', async () => {
      const where = ns('up/window');
      const id = await registry.uploads.start(where);
      await registry.uploads.append(where, id, body('12345'));
      const misplaced = { ...body('678'), range: { start: 3, end: 5 } };
      await assert.rejects(registry.uploads.append(where, id, misplaced), kindIs('size-mismatch'));
      assert.equal((await registry.uploads.status(where, id)).size, 5);
    });
  });

  describe('grants over bytes that already exist: grant, collector fence, re-probe', () => {
    // The collector's work is done by hand on the real store: its run marker, then the deletion of the bytes.
    it('a mount whose bytes are reclaimed before the grant lands falls back to an upload (the client sends the bytes)', async () => {
      const blob = await pushBlob(ns('reprobe/src'), `reprobe-mount-${Date.now()}`);
      const reclaiming = testRegistry(store, store, registrySettings(), {
        events: { beforeCommit: async () => store.delete(blobKeys.data(blob)), committed: () => {} },
      });
      assert.equal(await reclaiming.blobs.mount(ns('reprobe/dst'), blob, ns('reprobe/src'), async () => true, TEST_ACTOR), false);
      await assert.rejects(registry.blobs.stat(ns('reprobe/dst'), blob), kindIs('blob-unknown'));
    });

    it('an upload of bytes that are reclaimed while it is fenced stores its own copy instead of failing', async () => {
      const text = `reprobe-upload-${Date.now()}`;
      const blob = await pushBlob(ns('reprobe/first'), text);
      const where = ns('reprobe/second');
      const id = await registry.uploads.start(where);
      await registry.uploads.append(where, id, body(text));
      // A collector run over exactly this digest, for 300 ms, deleting the bytes meanwhile.
      await store.put(gcKeys.marker('reprobe-run'), JSON.stringify({ start: blob, end: blob, expires_at: new Date(Date.now() + 300).toISOString(), instance: 'test' }));
      const reclaim = sleep(100).then(() => store.delete(blobKeys.data(blob)));
      try {
        await registry.uploads.complete(where, id, blob, { body: undefined, range: undefined, length: undefined }, TEST_ACTOR);
      } finally {
        await reclaim;
        await store.delete(gcKeys.marker('reprobe-run'));
      }
      const read = await registry.blobs.pull(await registry.blobs.stat(where, blob), TEST_ACTOR);
      assert.equal(Buffer.concat(await read.toArray()).toString(), text);
    });
  });

  describe('visibility and manifests', () => {
    it('a blob is readable only where it was uploaded or mounted', async () => {
      const blob = await pushBlob(ns('vis/a'), `vis-${Date.now()}`);
      await registry.blobs.stat(ns('vis/a'), blob);
      await assert.rejects(registry.blobs.stat(ns('vis/b'), blob), kindIs('blob-unknown'));
      assert.equal(await registry.blobs.mount(ns('vis/b'), blob, ns('vis/a'), async () => true, TEST_ACTOR), true);
      await registry.blobs.stat(ns('vis/b'), blob);
      assert.equal(await registry.blobs.mount(ns('vis/c'), blob, ns('vis/a'), async () => false, TEST_ACTOR), false);
      await assert.rejects(registry.blobs.stat(ns('vis/c'), blob), kindIs('blob-unknown'));
    });

    it('a permissive push records only the references the namespace could read', async () => {
      const layer = await pushBlob(ns('perm/own'), `layer-${Date.now()}`);
      const manifest = imageManifest({ layers: [{ mediaType: OCI_LAYER, digest: layer, size: 1 }] });
      await registry.manifests.push(ns('perm/other'), {
        reference: { kind: 'tag', tag: tag('v1') },
        contentType: manifest.mediaType as MediaType,
        body: manifest.bytes,
        extraTags: [],
      }, TEST_ACTOR);
      await assert.rejects(registry.blobs.stat(ns('perm/other'), layer), kindIs('blob-unknown'));
    });

    it('deleting a revision removes its tags, keeps the blobs owned, and frees them for blob delete', async () => {
      const where = ns('del/app');
      const layerText = `layer-${Date.now()}`;
      const layer = await pushBlob(where, layerText);
      const manifest = imageManifest({ layers: [{ mediaType: OCI_LAYER, digest: layer, size: layerText.length }] });
      const pushed = await registry.manifests.push(where, {
        reference: { kind: 'tag', tag: tag('latest') },
        contentType: manifest.mediaType as MediaType,
        body: manifest.bytes,
        extraTags: [],
      }, TEST_ACTOR);
      await assert.rejects(registry.blobs.delete(where, layer, TEST_ACTOR), kindIs('blob-still-referenced'));
      await registry.manifests.deleteRevision(where, pushed.digest, TEST_ACTOR);
      await assert.rejects(registry.manifests.stat(where, { kind: 'tag', tag: tag('latest') }), kindIs('manifest-unknown'));
      await registry.blobs.stat(where, layer);
      await registry.blobs.delete(where, layer, TEST_ACTOR);
      await assert.rejects(registry.blobs.stat(where, layer), kindIs('blob-unknown'));
    });

    it('an index child stays readable through the index after the child is untagged', async () => {
      const where = ns('idx/app');
      const child = imageManifest();
      const childPush = await registry.manifests.push(where, {
        reference: { kind: 'tag', tag: tag('child') },
        contentType: child.mediaType as MediaType,
        body: child.bytes,
        extraTags: [],
      }, TEST_ACTOR);
      const index = imageIndex({ manifests: [manifestDescriptor(child)] });
      await registry.manifests.push(where, { reference: { kind: 'tag', tag: tag('multi') }, contentType: OCI_INDEX as MediaType, body: index.bytes, extraTags: [] }, TEST_ACTOR);
      await registry.manifests.deleteTag(where, tag('child'), TEST_ACTOR);
      assert.equal((await registry.manifests.stat(where, { kind: 'digest', digest: childPush.digest })).digest, childPush.digest);
      assert.deepEqual((await registry.listings.tagPage(where, 10, undefined)).items, ['multi']);
    });

    it("a push with many ?tag= values reads the namespace's tags once, also right after the previous one changed them", async () => {
      const where = ns('many/tags');
      const listings: string[] = [];
      // The real store, observed: every listing of the namespace's tag events is counted.
      const observed = new Proxy(store, {
        get(target, key, receiver) {
          const value = Reflect.get(target, key, receiver) as unknown;
          if (key !== 'list' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
          return (prefix: string, options?: unknown) => {
            listings.push(prefix);
            return (value as (p: string, o?: unknown) => Promise<unknown>).call(target, prefix, options);
          };
        },
      });
      const counted = testRegistry(store, observed, registrySettings());
      const push = (seed: string) => {
        const manifest = imageManifest({ annotations: { seed } });
        const extraTags = Array.from({ length: 200 }, (_, i) => tag(`t${i}`));
        return counted.manifests.push(where, { reference: { kind: 'digest', digest: digest(manifest.digest) }, contentType: manifest.mediaType as MediaType, body: manifest.bytes, extraTags }, TEST_ACTOR);
      };
      await push('first');
      listings.length = 0;
      await push('second');
      const tagListings = listings.filter((prefix) => prefix === 'v2/ns/many/tags!tag');
      assert.ok(tagListings.length <= 1, `the tags were listed ${tagListings.length} times for 200 tags`);
      assert.deepEqual((await counted.listings.tagPage(where, 1000, undefined)).items.length, 200);
    });
  });
});

function kindIs(kind: RegistryErrorKind) {
  return (err: unknown) => isRegistryError(err, kind);
}
