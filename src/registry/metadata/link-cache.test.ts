// The link cache (docs/storage.md, "S3 link cache") over the real S3 store on Ceph RGW: answers survive an S3 outage
// once cached, writes and deletes of this process are seen at once, a shared cache (Redis) carries them to other
// replicas, and nothing caches on a filesystem or with `link_cache_ttl = 0`. The outage is real: the file's own
// radosgw process stops, and connections to it are refused.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { requireBinary } from '../../../test/support/binaries.ts';
import { freePort } from '../../../test/support/free-port.ts';
import { imageManifest, manifestDescriptor, type Manifest } from '../../../test/support/oci.ts';
import { startRedis } from '../../../test/support/redis.ts';
import type { Cache } from '../../cache/cache.ts';
import { MemoryCache } from '../../cache/memory-cache.ts';
import { RedisCache } from '../../cache/redis-cache.ts';
import { S3_DEFAULTS } from '../../config/s3-section.ts';
import type { MetadataStoreConfig } from '../../config/types.ts';
import { parseDigest, type Digest } from '../../oci/digest.ts';
import { parseNamespace, type Namespace } from '../../oci/name.ts';
import { parseReference } from '../../oci/reference.ts';
import { parseTag, type Tag } from '../../oci/tag.ts';
import { FsObjectStore } from '../../storage/fs/fs-object-store.ts';
import { S3ObjectStore } from '../../storage/s3/s3-object-store.ts';
import { DEFAULT_LINK_CACHE_TTL_SECS } from '../../config/s3-section.ts';
import { LinkCache, linkKeys, openLinkCache } from './link-cache.ts';
import { pushTo } from '../registry-fixture.ts';
import { Registry } from '../registry.ts';
import { TEST_ACTOR, registrySettings, testRegistry } from '../../../test/support/registry-settings.ts';
import { RgwFixture } from '../../../test/support/rgw-fixture.ts';

const ns = (name: string): Namespace => parseNamespace(name)!;
const tag = (name: string): Tag => parseTag(name)!;
const byTag = (name: string) => parseReference(name)!;
const digestOf = (manifest: Manifest): Digest => parseDigest(manifest.digest);

const settings = registrySettings({ maxManifestSize: 1 << 20, maxBlobSize: 1 << 20 });

function s3Metadata(extra: { linkCacheTtlSecs?: number } = {}): MetadataStoreConfig {
  const settings = { ...S3_DEFAULTS, endpoint: 'http://127.0.0.1:1', bucket: 'b', region: 'r', accessKeyId: 'a', secretKey: 's' };
  return { kind: 's3', settings, inherited: false, linkCacheTtlSecs: DEFAULT_LINK_CACHE_TTL_SECS, accessTimeDebounceSecs: 60, ...extra };
}

let fixture: RgwFixture;
let prefixes = 0;

before(async () => {
  // A gateway of this file's own, so stopping it is an outage no other test sees.
  fixture = await RgwFixture.start({ ownGateway: true });
});
after(async () => {
  await fixture?.close();
});

/** A registry over its own key prefix of the bucket (or `prefix`, to share one with another "replica"). */
function s3Registry(t: TestContext, cache: Cache | undefined, prefix = `lc${++prefixes}-${randomBytes(4).toString('hex')}/`) {
  const store = new S3ObjectStore(fixture.options({ keyPrefix: prefix }));
  t.after(() => store.destroy());
  return { registry: testRegistry(store, store, settings, { linkCache: cache && new LinkCache(cache, DEFAULT_LINK_CACHE_TTL_SECS) }), prefix };
}

/** Runs `during` while the gateway refuses connections, then brings it back whatever happened. */
async function withS3Down<T>(during: () => Promise<T>): Promise<T> {
  await fixture.stop();
  try {
    return await during();
  } finally {
    await fixture.resume();
  }
}

describe('link cache on an S3 metadata store', () => {
  it('answers manifest, referrer and catalog lookups without S3 once cached; fresh reads still go to S3', async (t) => {
    const { registry } = s3Registry(t, new MemoryCache());
    const name = ns('cached/app');
    const image = imageManifest();
    const signature = imageManifest({ subject: manifestDescriptor(image), artifactType: 'application/x-signature' });
    await pushTo(registry, name, 'v1', image);
    await pushTo(registry, name, signature.digest, signature);
    assert.equal((await registry.manifests.stat(name, byTag('v1'))).digest, image.digest);
    assert.deepEqual((await registry.referrers.list(name, digestOf(image), {})).manifests.map((d) => d.digest), [signature.digest]);
    assert.equal(await registry.listings.holdsContent(name), true);

    await withS3Down(async () => {
      const stored = await registry.manifests.stat(name, byTag('v1'));
      assert.deepEqual(stored, { digest: image.digest, mediaType: image.mediaType, size: image.size });
      assert.equal((await registry.manifests.stat(name, parseReference(signature.digest)!)).digest, signature.digest);
      assert.deepEqual((await registry.referrers.list(name, digestOf(image), {})).manifests.map((d) => d.digest), [signature.digest]);
      assert.equal(await registry.listings.holdsContent(name), true);
      // A delete wave must see fresh state, so it needs S3 and fails while S3 is away.
      await assert.rejects(registry.manifests.deleteTag(name, tag('v1'), TEST_ACTOR));
    });
    assert.equal((await registry.manifests.stat(name, byTag('v1'))).digest, image.digest, 'the failed delete removed nothing');
  });

  it('serves tags list pages from the cached head of the live tags; pushes, tag deletes and revision deletes update it', async (t) => {
    const { registry } = s3Registry(t, new MemoryCache());
    const name = ns('cached/tags');
    const image = imageManifest();
    const other = imageManifest();
    for (const name_ of ['a', 'b', 'c']) await pushTo(registry, name, name_, image);
    const tagsOf = async (n: number, last?: string) => (await registry.listings.tagPage(name, n, last)).items;
    assert.deepEqual(await tagsOf(10), ['a', 'b', 'c']);

    await withS3Down(async () => {
      assert.deepEqual(await tagsOf(10), ['a', 'b', 'c'], 'the whole listing from the cache');
      assert.deepEqual(await tagsOf(1, 'a'), ['b'], 'a page after a cursor from the cache');
      assert.deepEqual(await registry.listings.tagPage(name, 2, undefined), { items: ['a', 'b'], more: true });
    });

    await pushTo(registry, name, 'd', other);
    assert.deepEqual(await tagsOf(10), ['a', 'b', 'c', 'd'], 'a pushed tag is listed at once');
    await registry.manifests.deleteTag(name, tag('b'), TEST_ACTOR);
    assert.deepEqual(await tagsOf(10), ['a', 'c', 'd'], 'a deleted tag is gone at once');
    await registry.manifests.deleteRevision(name, digestOf(other), TEST_ACTOR);
    assert.deepEqual(await tagsOf(10), ['a', 'c'], 'tags of a deleted revision are gone at once');
  });

  it('a namespace whose live tags exceed the cached head: pages past it are read from storage', async (t) => {
    const { registry } = s3Registry(t, new MemoryCache());
    const name = ns('cached/many-tags');
    const image = imageManifest();
    // 100 tags of 100 characters: about 10 KB of JSON, more than the 8 KiB head.
    const tags = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(3, '0')}${'x'.repeat(97)}`);
    for (const name_ of tags) await pushTo(registry, name, name_, image);
    assert.deepEqual((await registry.listings.tagPage(name, 1000, undefined)).items, tags);
    await withS3Down(async () => {
      assert.deepEqual((await registry.listings.tagPage(name, 10, undefined)).items, tags.slice(0, 10), 'a page inside the head from the cache');
      await assert.rejects(registry.listings.tagPage(name, 10, tags[90]), 'a page past the head needs storage');
    });
    assert.deepEqual((await registry.listings.tagPage(name, 10, tags[90])).items, tags.slice(91));
  });

  it('caches absence too, and a push by this process replaces it at once', async (t) => {
    const { registry } = s3Registry(t, new MemoryCache());
    const name = ns('cached/absent');
    const image = imageManifest();
    await assert.rejects(registry.manifests.stat(name, byTag('later')), /manifest unknown/);
    await withS3Down(() => assert.rejects(registry.manifests.stat(name, byTag('later')), /manifest unknown/));
    await pushTo(registry, name, 'later', image);
    assert.equal((await registry.manifests.stat(name, byTag('later'))).digest, image.digest);
  });

  it('retagging, deleting a tag and deleting a revision are seen at once by the same process', async (t) => {
    const { registry } = s3Registry(t, new MemoryCache());
    const name = ns('cached/moves');
    const first = imageManifest();
    const second = imageManifest();
    const signature = imageManifest({ subject: manifestDescriptor(second) });
    await pushTo(registry, name, 't', first);
    assert.equal((await registry.manifests.stat(name, byTag('t'))).digest, first.digest);
    await pushTo(registry, name, 't', second);
    assert.equal((await registry.manifests.stat(name, byTag('t'))).digest, second.digest);

    await registry.manifests.deleteTag(name, tag('t'), TEST_ACTOR);
    await assert.rejects(registry.manifests.stat(name, byTag('t')), /manifest unknown/);

    await pushTo(registry, name, signature.digest, signature);
    assert.equal((await registry.referrers.list(name, digestOf(second), {})).manifests.length, 1);
    await registry.manifests.deleteRevision(name, digestOf(signature), TEST_ACTOR);
    assert.deepEqual((await registry.referrers.list(name, digestOf(second), {})).manifests, []);
    await assert.rejects(registry.manifests.stat(name, parseReference(signature.digest)!), /manifest unknown/);

    await registry.manifests.deleteRevision(name, digestOf(first), TEST_ACTOR);
    await registry.manifests.deleteRevision(name, digestOf(second), TEST_ACTOR);
    assert.equal(await registry.listings.holdsContent(name), false, 'the last revision deleted: the catalog hides it');
  });

  it('a per-process memory cache lags another replica until the entry expires; a shared cache does not', async (t) => {
    const name = ns('cached/replicas');
    const first = imageManifest();
    const second = imageManifest();
    const writer = s3Registry(t, new MemoryCache());
    const lagging = s3Registry(t, new MemoryCache(), writer.prefix).registry;
    await pushTo(writer.registry, name, 't', first);
    assert.equal((await lagging.manifests.stat(name, byTag('t'))).digest, first.digest);
    await pushTo(writer.registry, name, 't', second);
    assert.equal((await lagging.manifests.stat(name, byTag('t'))).digest, first.digest, 'within the TTL, as the link cache allows');

    const shared = new MemoryCache();
    const one = s3Registry(t, shared, writer.prefix).registry;
    const two = s3Registry(t, shared, writer.prefix).registry;
    assert.equal((await two.manifests.stat(name, byTag('t'))).digest, second.digest);
    await pushTo(one, name, 't', first);
    assert.equal((await two.manifests.stat(name, byTag('t'))).digest, first.digest);
  });

  it('with Redis, a retag or delete on one replica is seen by the other at once', async (t) => {
    if (!requireBinary(t, 'redis-server')) return;
    const redis = await startRedis();
    t.after(() => redis.kill());
    const caches = [new RedisCache(redis.url, 'lc:'), new RedisCache(redis.url, 'lc:')];
    t.after(() => Promise.all(caches.map((cache) => cache.close())));
    const one = s3Registry(t, caches[0]);
    const two = s3Registry(t, caches[1], one.prefix).registry;
    const name = ns('cached/redis');
    const first = imageManifest();
    const second = imageManifest();
    await pushTo(one.registry, name, 't', first);
    assert.equal((await two.manifests.stat(name, byTag('t'))).digest, first.digest);
    await withS3Down(async () => assert.equal((await two.manifests.stat(name, byTag('t'))).digest, first.digest, 'served from Redis'));
    await pushTo(one.registry, name, 't', second);
    assert.equal((await two.manifests.stat(name, byTag('t'))).digest, second.digest);
    await one.registry.manifests.deleteTag(name, tag('t'), TEST_ACTOR);
    await assert.rejects(two.manifests.stat(name, byTag('t')), /manifest unknown/);
  });

  it('a cache that fails is a miss: reads and writes go to S3 and succeed', async (t) => {
    const port = await freePort();
    const down = new RedisCache(`redis://127.0.0.1:${port}`, '', { connectTimeoutMs: 500 });
    t.after(() => down.close());
    const { registry } = s3Registry(t, down);
    const name = ns('cached/broken');
    const image = imageManifest();
    await pushTo(registry, name, 't', image);
    assert.equal((await registry.manifests.stat(name, byTag('t'))).digest, image.digest);
    await registry.manifests.deleteTag(name, tag('t'), TEST_ACTOR);
    await assert.rejects(registry.manifests.stat(name, byTag('t')), /manifest unknown/);
  });

  it('link_cache_ttl = 0 opens no cache: every read goes to S3', async (t) => {
    assert.equal(openLinkCache(s3Metadata({ linkCacheTtlSecs: 0 }), new MemoryCache()), undefined);
    assert.equal(openLinkCache(s3Metadata({ linkCacheTtlSecs: 7 }), new MemoryCache())?.ttlSecs, 7);
    assert.equal(openLinkCache(s3Metadata(), new MemoryCache())?.ttlSecs, DEFAULT_LINK_CACHE_TTL_SECS);

    const store = new S3ObjectStore(fixture.options({ keyPrefix: `lc-off-${randomBytes(4).toString('hex')}/` }));
    t.after(() => store.destroy());
    const cache = new MemoryCache();
    const registry = testRegistry(store, store, settings, { linkCache: openLinkCache(s3Metadata({ linkCacheTtlSecs: 0 }), cache) });
    const name = ns('uncached/app');
    const image = imageManifest();
    await pushTo(registry, name, 't', image);
    assert.equal((await registry.manifests.stat(name, byTag('t'))).digest, image.digest);
    await withS3Down(() => assert.rejects(registry.manifests.stat(name, byTag('t'))));
    assert.equal(await cache.get(linkKeys.tag(name, tag('t'))), undefined);
  });
});

describe('link cache on a filesystem metadata store', () => {
  it('is never opened for fs, and a Registry over fs ignores one it is given', async (t) => {
    const fsMetadata: MetadataStoreConfig = { kind: 'fs', rootDir: '/unused', syncToDisk: false };
    assert.equal(openLinkCache(fsMetadata, new MemoryCache()), undefined);

    const root = await mkdtemp(join(tmpdir(), 'angos-link-cache-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const cache = new MemoryCache();
    const registry = testRegistry(new FsObjectStore({ rootDir: root }), new FsObjectStore({ rootDir: root }), settings, { linkCache: new LinkCache(cache, 30) });
    const other = testRegistry(new FsObjectStore({ rootDir: root }), new FsObjectStore({ rootDir: root }), settings);
    const name = ns('fs/app');
    const first = imageManifest();
    const second = imageManifest();
    await pushTo(registry, name, 't', first);
    assert.equal((await registry.manifests.stat(name, byTag('t'))).digest, first.digest);
    await pushTo(other, name, 't', second);
    assert.equal((await registry.manifests.stat(name, byTag('t'))).digest, second.digest, 'another process’s write is seen at once');
    assert.equal(await cache.get(linkKeys.tag(name, tag('t'))), undefined);
    assert.equal(await cache.get(linkKeys.revision(name, digestOf(first))), undefined);
  });
});

describe('LinkCache', () => {
  it('does not cache a read that a write to the same key overtook', async () => {
    const cache = new MemoryCache();
    const links = new LinkCache(cache, 30);
    let finishLoad!: (value: string) => void;
    let loadStarted!: () => void;
    const started = new Promise<void>((resolve) => (loadStarted = resolve));
    const loading = links.read('k', () => {
      loadStarted();
      return new Promise<string>((resolve) => (finishLoad = resolve));
    });
    await started;
    await links.forget('k');
    finishLoad('read before the write');
    assert.equal(await loading, 'read before the write');
    assert.equal(await cache.get('k'), undefined);
    assert.equal(await links.read('k', async () => 'after the write'), 'after the write');
    assert.equal(await links.read('k', async () => 'not asked'), 'after the write');
  });

  it('treats an unreadable entry as a miss and caches absence as null', async () => {
    const cache = new MemoryCache();
    const links = new LinkCache(cache, 30);
    await cache.set('k', '{not json', 30);
    assert.equal(await links.read('k', async () => 'loaded'), 'loaded');
    assert.equal(await links.read('gone', async () => undefined), undefined);
    assert.equal(await cache.get('gone'), 'null');
    assert.equal(await links.read('gone', async () => 'not asked'), undefined);
  });
});
