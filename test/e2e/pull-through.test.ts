// The pull-through cache against real upstreams (docs/pull-through.md): a second instance of this registry holds
// the content, reached through two counting proxies (test/support/upstream-proxy.ts) that stand for two upstreams
// and can go down, answer errors, or serve a poisoned body.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { expectError, expectStatus } from '../support/expect.ts';
import { request, send } from '../support/http.ts';
import { content, descriptorOf, imageManifest, OCI_LAYER, OCI_MANIFEST, sha256, uniqueBlob, type Content, type Manifest } from '../support/oci.ts';
import { getBlob, getManifest, pushBlob, pushImage, pushManifest } from '../support/registry.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { basicAuth, identityToml } from './auth-fixtures.ts';
import { startUpstreamProxy, type UpstreamProxy } from '../support/upstream-proxy.ts';

/** Polls until `check` holds (a background cache fill landing), failing after `ms`. */
async function eventually(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const MANIFESTS = /\/manifests\//;

describe('pull-through cache', () => {
  let upstream: RunningServer;
  let first: UpstreamProxy;
  let second: UpstreamProxy;
  let cache: RunningServer;
  let image: { manifest: Manifest; layer: Content };

  before(async () => {
    upstream = await startServer();
    first = await startUpstreamProxy(upstream.url);
    second = await startUpstreamProxy(upstream.url);
    const layer = uniqueBlob('layer');
    image = { ...(await pushImage(upstream.url, 'library/app', 'v1', [layer])), layer };
    await pushManifest(upstream.url, 'library/app', 'latest', image.manifest);
    cache = await startServer({
      extraToml: [
        await identityToml('alice', 'alice', 'pw'),
        '[global]',
        'max_manifest_size = 4096',
        '[repository."mirror"]',
        'namespace = "docker.io"',
        'immutable_tags = true',
        'immutable_tags_exclusions = ["^latest$"]',
        '[[repository."mirror".upstream]]',
        `url = "${first.url}"`,
        '[[repository."mirror".upstream]]',
        `url = "${second.url}"`,
      ].join('\n'),
    });
  });
  /**
   * Waits until the cache serves the blob itself: a HEAD of it reaches no upstream (a HEAD, unlike a GET, leaves the
   * GET counts alone).
   */
  async function filled(ns: string, digest: string): Promise<void> {
    await eventually(`the cache fill of ${digest}`, async () => {
      const before = first.requests.length + second.requests.length;
      const head = await send(cache.url, 'HEAD', `/v2/${ns}/blobs/${digest}`);
      return head.status === 200 && first.requests.length + second.requests.length === before;
    });
  }

  after(async () => {
    await cache?.stop();
    await first?.close();
    await second?.close();
    await upstream?.stop();
  });

  test('an immutable tag is fetched once, then served with no upstream request; digests never ask', async () => {
    const miss = await getManifest(cache.url, 'mirror/library/app', 'v1');
    expectStatus(miss, 200);
    assert.deepEqual(miss.body, image.manifest.bytes);
    assert.equal(miss.headers['docker-content-digest'], image.manifest.digest);
    assert.equal(miss.headers['content-type'], OCI_MANIFEST);
    assert.equal(first.count('GET', /\/v2\/library\/app\/manifests\/v1$/), 1, 'the bare-host upstream is asked for library/app');
    const before = first.requests.length + second.requests.length;
    expectStatus(await getManifest(cache.url, 'mirror/library/app', 'v1'), 200);
    expectStatus(await getManifest(cache.url, 'mirror/library/app', image.manifest.digest), 200);
    expectStatus(await getManifest(cache.url, 'mirror/library/app', image.manifest.digest, 'HEAD'), 200);
    assert.equal(first.requests.length + second.requests.length, before, 'cached immutable tags and digests make no upstream request');
  });

  test('a mutable tag costs one HEAD while unchanged, and a HEAD and a GET once it moved', async () => {
    expectStatus(await getManifest(cache.url, 'mirror/library/app', 'latest'), 200);
    const heads = first.count('HEAD', /manifests\/latest$/);
    const gets = first.count('GET', /manifests\/latest$/);
    expectStatus(await getManifest(cache.url, 'mirror/library/app', 'latest'), 200);
    assert.equal(first.count('HEAD', /manifests\/latest$/), heads + 1);
    assert.equal(first.count('GET', /manifests\/latest$/), gets);

    const moved = await pushImage(upstream.url, 'library/app', 'latest', [uniqueBlob('layer')]);
    const served = await getManifest(cache.url, 'mirror/library/app', 'latest');
    expectStatus(served, 200);
    assert.equal(served.headers['docker-content-digest'], moved.manifest.digest);
    assert.equal(first.count('HEAD', /manifests\/latest$/), heads + 2);
    assert.equal(first.count('GET', /manifests\/latest$/), gets + 1);
    // Moved again upstream, but the GET that would fetch it fails everywhere: the stored copy is served stale.
    await pushImage(upstream.url, 'library/app', 'latest', [uniqueBlob('layer')]);
    const failGet = (req: { method?: string; url?: string }) => (req.method === 'GET' && /manifests\/latest$/.test(req.url ?? '') ? { status: 500 } : undefined);
    first.answer = failGet;
    second.answer = failGet;
    try {
      const kept = await getManifest(cache.url, 'mirror/library/app', 'latest');
      expectStatus(kept, 200);
      assert.equal(kept.headers['docker-content-digest'], moved.manifest.digest);
    } finally {
      first.answer = undefined;
      second.answer = undefined;
    }
    await pushManifest(upstream.url, 'library/app', 'latest', moved.manifest);
    // Stored: the moved tag now answers locally when the upstream is unreachable.
    await first.down();
    await second.down();
    try {
      const stale = await getManifest(cache.url, 'mirror/library/app', 'latest');
      expectStatus(stale, 200);
      assert.equal(stale.headers['docker-content-digest'], moved.manifest.digest);
    } finally {
      await first.up();
      await second.up();
    }
  });

  test('a blob miss streams the upstream body, and the cache fill makes the next pull local', async () => {
    const layer = uniqueBlob('streamed');
    await pushImage(upstream.url, 'library/stream', 'v1', [layer]);
    const head = await send(cache.url, 'HEAD', `/v2/mirror/library/stream/blobs/${layer.digest}`);
    expectStatus(head, 200);
    assert.equal(head.headers['content-length'], String(layer.bytes.length));
    const pulled = await getBlob(cache.url, 'mirror/library/stream', layer.digest);
    expectStatus(pulled, 200);
    assert.deepEqual(pulled.body, layer.bytes);
    assert.equal(pulled.headers['docker-content-digest'], layer.digest);
    const path = new RegExp(`/blobs/${layer.digest}$`);
    await filled('mirror/library/stream', layer.digest);
    // The fill downloads again, unless it could read the client's download while that was still running.
    const fetched = first.count('GET', path);
    assert.ok(fetched === 1 || fetched === 2, `upstream GETs of the blob: ${fetched}`);
    const local = await getBlob(cache.url, 'mirror/library/stream', layer.digest);
    assert.deepEqual(local.body, layer.bytes);
    assert.equal(first.count('GET', path), fetched, 'the filled blob is served locally');
  });

  test('a range on an uncached blob is forwarded upstream, and served locally after the fill', async () => {
    const layer = uniqueBlob('ranged');
    await pushImage(upstream.url, 'library/ranged', 'v1', [layer]);
    const ranged = await request(cache.url, `/v2/mirror/library/ranged/blobs/${layer.digest}`, { headers: { range: 'bytes=2-5' } });
    expectStatus(ranged, 206);
    assert.equal(ranged.headers['content-range'], `bytes 2-5/${layer.bytes.length}`);
    assert.deepEqual(ranged.body, layer.bytes.subarray(2, 6));
    const path = new RegExp(`/blobs/${layer.digest}$`);
    await filled('mirror/library/ranged', layer.digest);
    assert.equal(first.count('GET', path), 2, 'a ranged miss is not shared: the fill downloads the blob');
    const local = await request(cache.url, `/v2/mirror/library/ranged/blobs/${layer.digest}`, { headers: { range: 'bytes=2-5' } });
    expectStatus(local, 206);
    assert.deepEqual(local.body, layer.bytes.subarray(2, 6));
    assert.equal(first.count('GET', path), 2, 'the range is served locally');
  });

  test('eight clients pulling one cold blob share one upstream download and one fill', async () => {
    const layer = content(randomBytes(4 * 1024 * 1024));
    await pushImage(upstream.url, 'library/shared', 'v1', [layer]);
    const pulls = await Promise.all(Array.from({ length: 8 }, () => getBlob(cache.url, 'mirror/library/shared', layer.digest)));
    for (const pulled of pulls) {
      expectStatus(pulled, 200);
      assert.equal(sha256(pulled.body), layer.digest);
    }
    const path = new RegExp(`/blobs/${layer.digest}$`);
    await filled('mirror/library/shared', layer.digest);
    const fetched = first.count('GET', path);
    assert.ok(fetched === 1 || fetched === 2, `one shared download, and the fill's own unless it read the shared one: ${fetched}`);
    expectStatus(await getBlob(cache.url, 'mirror/library/shared', layer.digest), 200);
    assert.equal(first.count('GET', path), fetched, 'the filled blob is served locally');
  });

  test('failover: the first upstream failing, the second answers; the next request tries the first again', async () => {
    await pushImage(upstream.url, 'library/failover', 'v1', [uniqueBlob('layer')]);
    first.answer = () => ({ status: 500 });
    try {
      expectStatus(await getManifest(cache.url, 'mirror/library/failover', 'v1'), 200);
      assert.equal(second.count('GET', /library\/failover\/manifests\/v1$/), 1);
      const tried = first.count('GET', /library\/failover\/manifests\/v2$/);
      expectError(await getManifest(cache.url, 'mirror/library/failover', 'v2'), 404, 'MANIFEST_UNKNOWN');
      assert.equal(first.count('GET', /library\/failover\/manifests\/v2$/), tried + 1, 'every request starts at the first upstream');
    } finally {
      first.answer = undefined;
    }
    // The first upstream stopped (connections refused): the second serves.
    await pushImage(upstream.url, 'library/failover', 'v3', [uniqueBlob('layer')]);
    await first.down();
    try {
      expectStatus(await getManifest(cache.url, 'mirror/library/failover', 'v3'), 200);
      assert.equal(second.count('GET', /library\/failover\/manifests\/v3$/), 1);
    } finally {
      await first.up();
    }
  });

  test('every upstream down: cached content is served, uncached tags and blobs are unknown', async () => {
    await first.down();
    await second.down();
    try {
      expectStatus(await getManifest(cache.url, 'mirror/library/app', 'v1'), 200);
      expectError(await getManifest(cache.url, 'mirror/library/app', 'never'), 404, 'MANIFEST_UNKNOWN');
      expectError(await getBlob(cache.url, 'mirror/library/app', uniqueBlob().digest), 404, 'BLOB_UNKNOWN');
    } finally {
      await first.up();
      await second.up();
    }
  });

  test('an upstream manifest that does not match its digest is refused and nothing is stored', async () => {
    const { manifest } = await pushImage(upstream.url, 'library/poisoned', 'v1', [uniqueBlob('layer')]);
    const other = imageManifest({ layers: [descriptorOf(uniqueBlob('other'), OCI_LAYER)] });
    const poison = (req: { url?: string }) =>
      /\/manifests\//.test(req.url ?? '') ? { status: 200, headers: { 'content-type': OCI_MANIFEST, 'docker-content-digest': manifest.digest }, body: other.bytes } : undefined;
    first.answer = poison;
    second.answer = poison;
    try {
      expectError(await getManifest(cache.url, 'mirror/library/poisoned', manifest.digest), 400, 'MANIFEST_INVALID');
      expectError(await getManifest(cache.url, 'mirror/library/poisoned', 'v1'), 400, 'MANIFEST_INVALID');
    } finally {
      first.answer = undefined;
      second.answer = undefined;
    }
    // Nothing was stored: the next pull fetches again, and gets the true manifest.
    const before = first.count('GET', MANIFESTS);
    const fetched = await getManifest(cache.url, 'mirror/library/poisoned', manifest.digest);
    expectStatus(fetched, 200);
    assert.deepEqual(fetched.body, manifest.bytes);
    assert.equal(first.count('GET', MANIFESTS), before + 1);
  });

  test('an upstream manifest over max_manifest_size is unknown, and nothing is stored', async () => {
    const [config, layer] = [uniqueBlob('config'), uniqueBlob('layer')];
    for (const blob of [config, layer]) await pushBlob(upstream.url, 'library/large', blob);
    const large = imageManifest({
      config: descriptorOf(config, 'application/vnd.oci.image.config.v1+json'),
      layers: [descriptorOf(layer, OCI_LAYER)],
      annotations: { padding: 'x'.repeat(5000) },
    });
    await pushManifest(upstream.url, 'library/large', 'v1', large);
    expectError(await getManifest(cache.url, 'mirror/library/large', 'v1'), 404, 'MANIFEST_UNKNOWN');
    expectError(await getManifest(cache.url, 'mirror/library/large', large.digest), 404, 'MANIFEST_UNKNOWN');
    const tags = await request(cache.url, '/v2/mirror/library/large/tags/list');
    assert.notEqual(tags.status, 200, `nothing stored, yet the tags list answers ${tags.body.toString()}`);
  });

  test('poisoned upstream bytes reach the client as sent but are never cached; the fill dead-letters after 5 runs', async () => {
    const layer = uniqueBlob('true');
    await pushImage(upstream.url, 'library/bytes', 'v1', [layer]);
    const poisoned = Buffer.alloc(layer.bytes.length, 0x41);
    const poison = (req: { url?: string; method?: string }) =>
      req.method === 'GET' && (req.url ?? '').endsWith(`/blobs/${layer.digest}`)
        ? { status: 200, headers: { 'content-length': poisoned.length, 'docker-content-digest': layer.digest }, body: poisoned }
        : undefined;
    first.answer = poison;
    second.answer = poison;
    try {
      const relayed = await getBlob(cache.url, 'mirror/library/bytes', layer.digest);
      expectStatus(relayed, 200);
      assert.deepEqual(relayed.body, poisoned, 'a miss relays the upstream body without a digest check');
      await eventually('the dead letter', async () => {
        const failed = await request(cache.url, '/v2/_angos/jobs/failed?queue=cache');
        expectStatus(failed, 200);
        const rows = (JSON.parse(failed.body.toString()) as { failed: Array<{ lock_key: string; attempts: number; last_error: string }> }).failed;
        const row = rows.find((r) => r.lock_key === `cache.mirror/library/bytes:${layer.digest}`);
        if (!row) return false;
        assert.equal(row.attempts, 5);
        assert.match(row.last_error, /digest|match/);
        return true;
      });
      const before = first.count('GET', new RegExp(`/blobs/${layer.digest}$`));
      await getBlob(cache.url, 'mirror/library/bytes', layer.digest);
      assert.equal(first.count('GET', new RegExp(`/blobs/${layer.digest}$`)), before + 1, 'still fetched upstream: nothing was promoted');
    } finally {
      first.answer = undefined;
      second.answer = undefined;
    }
  });

  test('pushes to the cache are refused as a read-only cache (401 anonymous, 403 authenticated); tags list what is cached', async () => {
    const refused = await send(cache.url, 'POST', '/v2/mirror/library/app/blobs/uploads/');
    expectError(refused, 401, 'UNAUTHORIZED');
    assert.match(refused.body.toString(), /read-only cache/);
    const manifest = await send(cache.url, 'PUT', '/v2/mirror/library/app/manifests/v9', { headers: { 'content-type': OCI_MANIFEST }, body: image.manifest.bytes });
    expectError(manifest, 401, 'UNAUTHORIZED');
    const authenticated = await send(cache.url, 'POST', '/v2/mirror/library/app/blobs/uploads/', { headers: { authorization: basicAuth('alice', 'pw') } });
    expectError(authenticated, 403, 'DENIED');
    assert.match(authenticated.body.toString(), /read-only cache/);
    const tags = await request(cache.url, '/v2/mirror/library/app/tags/list');
    expectStatus(tags, 200);
    assert.deepEqual((JSON.parse(tags.body.toString()) as { tags: string[] }).tags, ['latest', 'v1']);
  });

  test('the ns parameter selects the mirror of that host, answered with OCI-Namespace', async () => {
    const served = await request(cache.url, '/v2/library/app/manifests/v1?ns=Docker.IO');
    expectStatus(served, 200);
    assert.equal(served.headers['oci-namespace'], 'Docker.IO');
    assert.equal(served.headers['docker-content-digest'], image.manifest.digest);
    const unknown = await request(cache.url, '/v2/mirror/library/app/manifests/v1?ns=quay.io');
    expectStatus(unknown, 200);
    assert.equal(unknown.headers['oci-namespace'], undefined);
  });

  test("referrers merge the upstream's with the cached ones; with the upstream down, the cached ones alone", async () => {
    const subject = image.manifest;
    const referrer = async (label: string) => {
      const [config, layer] = [uniqueBlob(`${label}-config`), uniqueBlob(label)];
      for (const blob of [config, layer]) await pushBlob(upstream.url, 'library/app', blob);
      const manifest = imageManifest({
        artifactType: `application/vnd.test.${label}`,
        config: descriptorOf(config, 'application/vnd.oci.image.config.v1+json'),
        layers: [descriptorOf(layer, OCI_LAYER)],
        subject: descriptorOf(subject, OCI_MANIFEST),
      });
      await pushManifest(upstream.url, 'library/app', manifest.digest, manifest);
      return manifest;
    };
    const cached = await referrer('cached');
    const upstreamOnly = await referrer('upstream');
    expectStatus(await getManifest(cache.url, 'mirror/library/app', cached.digest), 200);
    const listed = await request(cache.url, `/v2/mirror/library/app/referrers/${subject.digest}`);
    expectStatus(listed, 200);
    const digests = (JSON.parse(listed.body.toString()) as { manifests: Array<{ digest: string }> }).manifests.map((d) => d.digest);
    assert.deepEqual(digests, [cached.digest, upstreamOnly.digest].sort());
    await first.down();
    await second.down();
    try {
      const alone = await request(cache.url, `/v2/mirror/library/app/referrers/${subject.digest}`);
      expectStatus(alone, 200);
      assert.deepEqual((JSON.parse(alone.body.toString()) as { manifests: Array<{ digest: string }> }).manifests.map((d) => d.digest), [cached.digest]);
    } finally {
      await first.up();
      await second.up();
    }
  });
});
