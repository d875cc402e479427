// The registry domain over a real filesystem store, without HTTP: tag resolution, uploads continued by another
// process (a second Registry on the same root), per-namespace visibility, and the push/delete waves.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { content, imageIndex, imageManifest, manifestDescriptor, OCI_INDEX, OCI_LAYER, sha512 } from '../../test/support/oci.ts';
import { registrySettings } from '../../test/support/registry-settings.ts';
import { parseDigest, type Digest } from '../oci/digest.ts';
import { OciError } from '../oci/errors.ts';
import type { MediaType } from '../oci/media-type.ts';
import { parseNamespace, type Namespace } from '../oci/name.ts';
import { parseTag, type Tag } from '../oci/tag.ts';
import { FsObjectStore } from '../storage/fs/fs-object-store.ts';
import { Registry } from './registry.ts';
import { Tags } from './tags.ts';

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
    registry = new Registry(store, store, registrySettings());
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function pushBlob(into: Namespace, text: string): Promise<Digest> {
    const blob = content(text);
    await registry.uploads.monolithic(into, digest(blob.digest), Readable.from([blob.bytes]), blob.size);
    return digest(blob.digest);
  }

  describe('tag resolution (last writer wins by key order)', () => {
    const a = digest(content('a').digest);
    const b = digest(content('b').digest);
    const [low, high] = a < b ? [a, b] : [b, a];

    it('the newest event wins, whatever the order of writing', async () => {
      const tags = new Tags(store);
      await tags.append(ns('lww/one'), tag('t'), 'set', high, 2000, {});
      await tags.append(ns('lww/one'), tag('t'), 'set', low, 1000, {});
      assert.deepEqual(await tags.resolve(ns('lww/one'), tag('t')), { digest: high, createdAt: 2000 });
    });

    it('in the same millisecond the higher digest wins, and set beats del', async () => {
      const tags = new Tags(store);
      await tags.append(ns('lww/two'), tag('t'), 'set', low, 5000, {});
      await tags.append(ns('lww/two'), tag('t'), 'set', high, 5000, {});
      assert.equal((await tags.resolve(ns('lww/two'), tag('t')))?.digest, high);
      await tags.append(ns('lww/two'), tag('t'), 'del', high, 5000, {});
      assert.equal((await tags.resolve(ns('lww/two'), tag('t')))?.digest, high);
    });

    it('a newer del makes the tag absent; a newer set brings it back', async () => {
      const tags = new Tags(store);
      await tags.append(ns('lww/three'), tag('t'), 'set', low, 1000, {});
      await tags.append(ns('lww/three'), tag('t'), 'del', low, 2000, {});
      assert.equal(await tags.resolve(ns('lww/three'), tag('t')), undefined);
      await tags.append(ns('lww/three'), tag('t'), 'set', high, 3000, {});
      assert.equal((await tags.resolve(ns('lww/three'), tag('t')))?.digest, high);
    });
  });

  describe('uploads', () => {
    it('a session continues on another process: the second one re-hashes what the first stored', async () => {
      const other = new Registry(new FsObjectStore({ rootDir: root }), new FsObjectStore({ rootDir: root }), registrySettings());
      const where = ns('up/shared');
      const id = await registry.uploads.start(where);
      assert.equal(await registry.uploads.append(where, id, body('hello ')), 6);
      assert.equal(await other.uploads.append(where, id, body('wide ')), 11);
      assert.equal(await registry.uploads.append(where, id, body('world')), 16);
      const full = content('hello wide world');
      await other.uploads.complete(where, id, digest(full.digest), { body: undefined, range: undefined, length: undefined });
      assert.equal((await registry.blobs.stat(where, digest(full.digest))).size, 16);
      await assert.rejects(registry.uploads.status(where, id), codeIs('BLOB_UPLOAD_UNKNOWN'));
    });

    it('an unbound session closes under sha512; a sha512-bound one refuses a sha256 digest', async () => {
      const where = ns('up/algorithms');
      const text = `sha512-${Date.now()}`;
      const unbound = await registry.uploads.start(where);
      await registry.uploads.append(where, unbound, body(text));
      await registry.uploads.complete(where, unbound, digest(sha512(Buffer.from(text))), { body: undefined, range: undefined, length: undefined });
      assert.equal((await registry.blobs.stat(where, digest(sha512(Buffer.from(text))))).size, text.length);

      const bound = await registry.uploads.start(where, 'sha512');
      await registry.uploads.append(where, bound, body('x'));
      await assert.rejects(
        registry.uploads.complete(where, bound, digest(content('x').digest), { body: undefined, range: undefined, length: undefined }),
        codeIs('DIGEST_INVALID'),
      );
      await assert.rejects(registry.uploads.status(where, bound), codeIs('BLOB_UPLOAD_UNKNOWN'));
    });

    it('a chunk that does not start at the committed size is refused and nothing is appended', async () => {
      const where = ns('up/window');
      const id = await registry.uploads.start(where);
      await registry.uploads.append(where, id, body('12345'));
      const misplaced = { ...body('678'), range: { start: 3, end: 5 } };
      await assert.rejects(registry.uploads.append(where, id, misplaced), codeIs('SIZE_INVALID'));
      assert.equal((await registry.uploads.status(where, id)).size, 5);
    });
  });

  describe('visibility and manifests', () => {
    it('a blob is readable only where it was uploaded or mounted', async () => {
      const blob = await pushBlob(ns('vis/a'), `vis-${Date.now()}`);
      await registry.blobs.stat(ns('vis/a'), blob);
      await assert.rejects(registry.blobs.stat(ns('vis/b'), blob), codeIs('BLOB_UNKNOWN'));
      assert.equal(await registry.blobs.mount(ns('vis/b'), blob, ns('vis/a'), async () => true), true);
      await registry.blobs.stat(ns('vis/b'), blob);
      assert.equal(await registry.blobs.mount(ns('vis/c'), blob, ns('vis/a'), async () => false), false);
      await assert.rejects(registry.blobs.stat(ns('vis/c'), blob), codeIs('BLOB_UNKNOWN'));
    });

    it('a permissive push records only the references the namespace could read', async () => {
      const layer = await pushBlob(ns('perm/own'), `layer-${Date.now()}`);
      const manifest = imageManifest({ layers: [{ mediaType: OCI_LAYER, digest: layer, size: 1 }] });
      await registry.manifests.push(ns('perm/other'), {
        reference: { kind: 'tag', tag: tag('v1') },
        contentType: manifest.mediaType as MediaType,
        body: manifest.bytes,
        extraTags: [],
      });
      await assert.rejects(registry.blobs.stat(ns('perm/other'), layer), codeIs('BLOB_UNKNOWN'));
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
      });
      await assert.rejects(registry.blobs.delete(where, layer), (err: unknown) => err instanceof OciError && err.status === 405);
      await registry.manifests.deleteRevision(where, pushed.digest);
      await assert.rejects(registry.manifests.stat(where, { kind: 'tag', tag: tag('latest') }), codeIs('MANIFEST_UNKNOWN'));
      await registry.blobs.stat(where, layer);
      await registry.blobs.delete(where, layer);
      await assert.rejects(registry.blobs.stat(where, layer), codeIs('BLOB_UNKNOWN'));
    });

    it('an index child stays readable through the index after the child is untagged', async () => {
      const where = ns('idx/app');
      const child = imageManifest();
      const childPush = await registry.manifests.push(where, {
        reference: { kind: 'tag', tag: tag('child') },
        contentType: child.mediaType as MediaType,
        body: child.bytes,
        extraTags: [],
      });
      const index = imageIndex({ manifests: [manifestDescriptor(child)] });
      await registry.manifests.push(where, { reference: { kind: 'tag', tag: tag('multi') }, contentType: OCI_INDEX as MediaType, body: index.bytes, extraTags: [] });
      await registry.manifests.deleteTag(where, tag('child'));
      assert.equal((await registry.manifests.stat(where, { kind: 'digest', digest: childPush.digest })).digest, childPush.digest);
      assert.deepEqual((await registry.listings.tagPage(where, 10, undefined)).items, ['multi']);
    });
  });
});

function codeIs(code: string) {
  return (err: unknown) => err instanceof OciError && err.code === code;
}
