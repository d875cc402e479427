// The link cache of an S3 metadata store (docs/storage.md, "S3 link cache") through a real server process: on by
// default (`link_cache_ttl = 30`), the server's own writes are seen by its next read, and a pulled manifest keeps
// answering HEAD while S3 is down; with `link_cache_ttl = 0` nothing is cached.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { expectError, expectStatus } from '../support/expect.ts';
import { send } from '../support/http.ts';
import { imageManifest } from '../support/oci.ts';
import { deleteManifest, getManifest, pushManifest } from '../support/registry.ts';
import { RgwFixture } from '../support/rgw-fixture.ts';
import { s3StorageToml, startServer, type RunningServer } from '../support/server.ts';

/** Blob store on the test gateway; the metadata store either inherits it (every tuning key at its default) or sets `metadata`. */
function storageToml(fixture: RgwFixture, prefix: string, metadata?: readonly string[]): string {
  const blob = s3StorageToml(fixture, prefix);
  if (metadata === undefined) return blob;
  return `${blob}\n\n${s3StorageToml(fixture, prefix, metadata).replace('[blob_store.s3]', '[metadata_store.s3]')}`;
}

/** Runs `during` while the fixture's own gateway is stopped (connections refused), then brings it back whatever happened. */
async function withS3Down(fixture: RgwFixture, during: () => Promise<void>): Promise<void> {
  await fixture.stop();
  try {
    await during();
  } finally {
    await fixture.resume();
  }
}

describe('S3 link cache', () => {
  let fixture: RgwFixture;
  let cached: RunningServer;
  let uncached: RunningServer;

  before(async () => {
    // A gateway of the file's own: the outage below must not reach other test files on the shared cluster.
    fixture = await RgwFixture.start({ ownGateway: true });
    cached = await startServer({ storageToml: storageToml(fixture, 'default-ttl/') });
    uncached = await startServer({ storageToml: storageToml(fixture, 'no-cache/', ['link_cache_ttl = 0']) });
  });
  after(async () => {
    await Promise.all([cached?.stop(), uncached?.stop()]);
    await fixture?.close();
  });

  it('push, pull, retag, pull sees the new digest, delete the tag: 404', async () => {
    const first = imageManifest();
    const second = imageManifest();
    expectStatus(await pushManifest(cached.url, 'lc/app', 'latest', first), 201);
    const pulled = await getManifest(cached.url, 'lc/app', 'latest', 'HEAD');
    expectStatus(pulled, 200);
    assert.equal(pulled.headers['docker-content-digest'], first.digest);

    expectStatus(await pushManifest(cached.url, 'lc/app', 'latest', second), 201);
    const retagged = await getManifest(cached.url, 'lc/app', 'latest', 'HEAD');
    expectStatus(retagged, 200);
    assert.equal(retagged.headers['docker-content-digest'], second.digest);
    const tags = await send(cached.url, 'GET', '/v2/lc/app/tags/list');
    assert.deepEqual(JSON.parse(tags.body.toString()), { name: 'lc/app', tags: ['latest'] });

    expectStatus(await deleteManifest(cached.url, 'lc/app', 'latest'), 202);
    expectError(await getManifest(cached.url, 'lc/app', 'latest'), 404, 'MANIFEST_UNKNOWN');
    const afterDelete = await send(cached.url, 'GET', '/v2/lc/app/tags/list');
    assert.deepEqual(JSON.parse(afterDelete.body.toString()).tags, []);

    expectStatus(await deleteManifest(cached.url, 'lc/app', first.digest), 202);
    expectError(await getManifest(cached.url, 'lc/app', first.digest), 404, 'MANIFEST_UNKNOWN');
  });

  it('a pulled manifest answers HEAD while S3 is down; without the cache the same HEAD fails', async () => {
    const manifest = imageManifest();
    for (const server of [cached, uncached]) {
      expectStatus(await pushManifest(server.url, 'lc/outage', 'v1', manifest), 201);
      expectStatus(await getManifest(server.url, 'lc/outage', 'v1', 'HEAD'), 200);
    }
    await withS3Down(fixture, async () => {
      const served = await getManifest(cached.url, 'lc/outage', 'v1', 'HEAD');
      expectStatus(served, 200);
      assert.equal(served.headers['docker-content-digest'], manifest.digest);
      const failed = await getManifest(uncached.url, 'lc/outage', 'v1', 'HEAD');
      assert.ok(failed.status >= 500, `link_cache_ttl = 0 reads S3: got ${failed.status}`);
    });
  });
});
