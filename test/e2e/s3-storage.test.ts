// The registry on S3 storage (s3rver, behind the compatibility layer of src/storage/s3/s3rver-fixture.ts): the
// push/pull flow through real server processes, presigned redirects (docs/api.md, "Redirects"), and two servers on
// one bucket. The shared object-store suite covers the backend itself.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { S3rverFixture } from '../../src/storage/s3/s3rver-fixture.ts';
import { expectStatus } from '../support/expect.ts';
import { send } from '../support/http.ts';
import { content, imageManifest, descriptorOf, OCI_LAYER, OCI_MANIFEST } from '../support/oci.ts';
import { getBlob, getManifest, patchChunk, pushBlob, pushManifest, startUpload } from '../support/registry.ts';
import { s3StorageToml, startServer, type RunningServer } from '../support/server.ts';

function s3Toml(fixture: S3rverFixture): string {
  return s3StorageToml(fixture, 'registry/', ['presign_ttl_secs = 900']);
}

describe('S3 storage', () => {
  let fixture: S3rverFixture;
  let one: RunningServer;
  let two: RunningServer;

  before(async () => {
    fixture = await S3rverFixture.start();
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
  let fixture: S3rverFixture;
  let srv: RunningServer;

  before(async () => {
    fixture = await S3rverFixture.start();
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
