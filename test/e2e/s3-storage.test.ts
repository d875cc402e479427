// The registry on S3 storage (a bucket of the run's Ceph RADOS Gateway, test/support/rgw-fixture.ts): the
// push/pull flow through real server processes, presigned redirects (docs/api.md, "Redirects"), and two servers on
// one bucket. The shared object-store suite covers the backend itself.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { expectStatus } from '../support/expect.ts';
import { send } from '../support/http.ts';
import { content, imageManifest, descriptorOf, OCI_CONFIG, OCI_LAYER, OCI_MANIFEST } from '../support/oci.ts';
import { getBlob, getManifest, patchChunk, pushBlob, pushManifest, putManifest, startUpload } from '../support/registry.ts';
import { RgwFixture } from '../support/rgw-fixture.ts';
import { s3StorageToml, startServer, type RunningServer } from '../support/server.ts';

function s3Toml(fixture: RgwFixture): string {
  return s3StorageToml(fixture, 'registry/', ['presign_ttl_secs = 900']);
}

describe('S3 storage', () => {
  let fixture: RgwFixture;
  let one: RunningServer;
  let two: RunningServer;

  before(async () => {
    fixture = await RgwFixture.start();
    one = await startServer({ storageToml: s3Toml(fixture) });
    two = await startServer({ storageToml: s3Toml(fixture) });
  });
  after(async () => {
    await Promise.all([one?.stop(), two?.stop()]);
    await fixture?.close();
  });

  it('a blob GET redirects to a presigned URL that serves the bytes; Range and X-Angos-No-Redirect get the body', async () => {
    const blob = content(randomBytes(64 * 1024));
    await pushBlob(one.url, 's3/app', blob);
    const redirected = await getBlob(one.url, 's3/app', blob.digest);
    expectStatus(redirected, 307);
    assert.equal(redirected.headers['docker-content-digest'], blob.digest);
    const location = String(redirected.headers.location);
    assert.match(location, /^http:\/\/127\.0\.0\.1:\d+\//);
    assert.match(location, /X-Amz-Expires=900/);
    const followed = Buffer.from(await (await fetch(location)).arrayBuffer());
    assert.ok(followed.equals(blob.bytes), 'the presigned URL serves the blob');

    const inline = await getBlob(one.url, 's3/app', blob.digest, { headers: { 'x-angos-no-redirect': '1' } });
    expectStatus(inline, 200);
    assert.ok(inline.body.equals(blob.bytes));
    expectStatus(await getBlob(one.url, 's3/app', blob.digest, { headers: { 'x-angos-no-redirect': 'false' } }), 307);
    const ranged = await getBlob(one.url, 's3/app', blob.digest, { headers: { range: 'bytes=10-19' } });
    expectStatus(ranged, 206);
    assert.ok(ranged.body.equals(blob.bytes.subarray(10, 20)));
  });

  it('a manifest GET redirects with the stored media type; HEAD answers inline', async () => {
    const layer = content(randomBytes(1024));
    await pushBlob(one.url, 's3/img', layer);
    const manifest = imageManifest({ layers: [descriptorOf(layer, OCI_LAYER)] });
    await pushManifest(one.url, 's3/img', 'v1', manifest);
    const redirected = await getManifest(one.url, 's3/img', 'v1');
    expectStatus(redirected, 307);
    assert.equal(redirected.headers['content-type'], OCI_MANIFEST);
    const location = String(redirected.headers.location);
    assert.match(location, /response-content-type=application%2Fvnd\.oci\.image\.manifest\.v1%2Bjson/);
    const followed = await fetch(location);
    assert.equal(followed.headers.get('content-type'), OCI_MANIFEST);
    assert.ok(Buffer.from(await followed.arrayBuffer()).equals(manifest.bytes));
    const head = await getManifest(one.url, 's3/img', 'v1', 'HEAD');
    expectStatus(head, 200);
    assert.equal(head.headers['content-length'], String(manifest.size));
  });

  it('an upload begun on one server is continued and completed on the other; both then read the blob', async () => {
    const bytes = randomBytes(7 * 1024 * 1024 + 123);
    const blob = content(bytes);
    const session = await startUpload(one.url, 's3/shared');
    const split = 6 * 1024 * 1024;
    expectStatus(await patchChunk(one.url, session.location, bytes.subarray(0, split), 0), 202);
    expectStatus(await patchChunk(two.url, session.location, bytes.subarray(split), split), 202);
    expectStatus(await send(one.url, 'PUT', `${session.location}?digest=${blob.digest}`), 201);
    for (const server of [one, two]) {
      const inline = await getBlob(server.url, 's3/shared', blob.digest, { headers: { 'x-angos-no-redirect': '1' } });
      expectStatus(inline, 200);
      assert.ok(inline.body.equals(bytes));
    }
  });

  it('a tag pushed through one server resolves through the other', async () => {
    const manifest = imageManifest();
    await pushManifest(one.url, 's3/tags', 'latest', manifest);
    const seen = await getManifest(two.url, 's3/tags', 'latest', 'HEAD');
    expectStatus(seen, 200);
    assert.equal(seen.headers['docker-content-digest'], manifest.digest);
    const tags = await send(two.url, 'GET', '/v2/s3/tags/tags/list');
    assert.deepEqual(JSON.parse(tags.body.toString()), { name: 's3/tags', tags: ['latest'] });
  });
});

describe('S3 outage', () => {
  let fixture: RgwFixture;
  let srv: RunningServer;

  before(async () => {
    // A gateway of this suite's own, so the outage is real (connections refused) and no other test file sees it.
    fixture = await RgwFixture.start({ ownGateway: true });
    const breaker = ['max_attempts = 1', 'operation_attempt_timeout_secs = 2', 'circuit_breaker_threshold = 2', 'circuit_breaker_cooldown_secs = 1'];
    const toml = s3Toml(fixture);
    srv = await startServer({
      storageToml: `${toml}\n${breaker.join('\n')}\n\n${toml.replace('[blob_store.s3]', '[metadata_store.s3]')}\n${breaker.join('\n')}`,
    });
  });
  after(async () => {
    await srv?.stop();
    await fixture?.close();
  });

  it('stopped and restarted mid-traffic: every request is answered, 5xx while it is down, and every acknowledged push stands', async () => {
    interface Pushed {
      tag: string;
      config: ReturnType<typeof content>;
      manifest: ReturnType<typeof imageManifest>;
    }
    const acknowledged: Pushed[] = [];
    const statuses: number[] = [];
    // Inline, not a redirect to the gateway: the registry's own answer is under test.
    const readManifest = (tag: string) => send(srv.url, 'GET', `/v2/traffic/app/manifests/${tag}`, { headers: { accept: OCI_MANIFEST, 'x-angos-no-redirect': '1' } });
    let withoutRetryAfter = 0;
    let running = true;
    const worker = async (id: number): Promise<void> => {
      for (let round = 0; running; round++) {
        const config = content(randomBytes(512 + round));
        const blob = await send(srv.url, 'POST', `/v2/traffic/app/blobs/uploads/?digest=${config.digest}`, { body: config.bytes });
        statuses.push(blob.status);
        if (blob.status === 503 && blob.headers['retry-after'] === undefined) withoutRetryAfter++;
        if (blob.status !== 201) {
          await sleep(50);
          continue;
        }
        const manifest = imageManifest({ config: descriptorOf(config, OCI_CONFIG) });
        const tag = `w${id}-${round}`;
        const pushed = await putManifest(srv.url, 'traffic/app', tag, manifest);
        statuses.push(pushed.status);
        if (pushed.status === 201) acknowledged.push({ tag, config, manifest });
        const earlier = acknowledged[Math.floor(Math.random() * acknowledged.length)];
        if (earlier === undefined) continue; // nothing acknowledged yet (this push failed on a loaded machine)
        const read = await readManifest(earlier.tag);
        statuses.push(read.status);
        if (read.status === 200) assert.ok(read.body.equals(earlier.manifest.bytes), `${earlier.tag} reads back its own manifest`);
      }
    };
    const workers = [1, 2, 3, 4].map(worker);
    // Traffic must have been acknowledged before the outage: at least 1.5 s of it, longer on a loaded machine.
    await sleep(1500);
    for (let waited = 0; acknowledged.length === 0 && waited < 30_000; waited += 100) await sleep(100);
    const before = acknowledged.length;
    await fixture.stop();
    let readiness = 0;
    for (let attempt = 0; attempt < 50 && readiness !== 503; attempt++) {
      await sleep(100);
      readiness = (await send(srv.url, 'GET', '/readyz')).status;
    }
    assert.equal(readiness, 503, 'not ready while the gateway is down');
    await sleep(1500);
    await fixture.resume();
    for (let attempt = 0; attempt < 50 && readiness !== 200; attempt++) {
      await sleep(200);
      readiness = (await send(srv.url, 'GET', '/readyz')).status;
    }
    assert.equal(readiness, 200, 'ready again once the gateway answers');
    const recovered = acknowledged.length;
    await sleep(1500);
    for (let waited = 0; acknowledged.length === recovered && waited < 30_000; waited += 100) await sleep(100);
    running = false;
    await Promise.all(workers);

    assert.ok(before > 0 && acknowledged.length > recovered, `pushes acknowledged before (${before}) and after the outage (${acknowledged.length - recovered})`);
    const failures = statuses.filter((status) => status >= 400);
    assert.ok(failures.length > 0, 'the outage was seen by the clients');
    assert.deepEqual([...new Set(failures)].filter((status) => status !== 500 && status !== 503), [], 'failures are 500 or 503 only');
    assert.equal(withoutRetryAfter, 0, 'every 503 carries Retry-After');
    for (const { tag, config, manifest } of acknowledged) {
      const read = await readManifest(tag);
      expectStatus(read, 200);
      assert.ok(read.body.equals(manifest.bytes), `${tag} stands`);
      const bytes = await getBlob(srv.url, 'traffic/app', config.digest, { headers: { 'x-angos-no-redirect': '1' } });
      expectStatus(bytes, 200);
      assert.ok(bytes.body.equals(config.bytes), `the config of ${tag} stands`);
    }
  });

  it('answers 503 with Retry-After once the breaker opens, reports not ready, and recovers with nothing lost', async () => {
    const blob = content(randomBytes(4096));
    await pushBlob(srv.url, 'outage/app', blob);
    await fixture.stop();

    // The first calls fail for real (500); after the threshold the breaker answers 503 without waiting on S3.
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 6; attempt++) {
      statuses.push((await getBlob(srv.url, 'outage/app', blob.digest, { headers: { 'x-angos-no-redirect': '1' } })).status);
    }
    assert.ok(statuses.every((status) => status === 500 || status === 503), statuses.join(','));
    const failFast = await getBlob(srv.url, 'outage/app', blob.digest, { headers: { 'x-angos-no-redirect': '1' } });
    expectStatus(failFast, 503);
    assert.ok(Number(failFast.headers['retry-after']) >= 1);
    assert.equal(JSON.parse(failFast.body.toString()).errors[0].message, null);
    expectStatus(await send(srv.url, 'GET', '/readyz'), 503);

    await fixture.resume();
    let recovered = 0;
    for (let attempt = 0; attempt < 50 && recovered !== 200; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      recovered = (await send(srv.url, 'GET', '/readyz')).status;
    }
    assert.equal(recovered, 200, 'ready again once S3 answers');
    const back = await getBlob(srv.url, 'outage/app', blob.digest, { headers: { 'x-angos-no-redirect': '1' } });
    expectStatus(back, 200);
    assert.ok(back.body.equals(blob.bytes), 'the blob stored before the outage is intact');
  });
});
