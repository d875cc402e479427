// Mixed backends: blob bytes in S3 (a bucket of the run's Ceph RADOS Gateway), metadata on the filesystem. The push
// and pull go through a real server process; the stores are then inspected directly to show each kind of key landed
// where configured.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { FsObjectStore } from '../../src/storage/fs/fs-object-store.ts';
import { S3ObjectStore } from '../../src/storage/s3/s3-object-store.ts';
import { expectStatus } from '../support/expect.ts';
import { send } from '../support/http.ts';
import { content, descriptorOf, imageManifest, OCI_LAYER } from '../support/oci.ts';
import { getBlob, getManifest, pushBlob, pushManifest } from '../support/registry.ts';
import { RgwFixture } from '../support/rgw-fixture.ts';
import { s3StorageToml, startServer, type RunningServer } from '../support/server.ts';

let fixture: RgwFixture;
let metaRoot: string;
let server: RunningServer;

before(async () => {
  fixture = await RgwFixture.start();
  metaRoot = await mkdtemp(join(tmpdir(), 'angos-mixed-meta-'));
  const storageToml = `${s3StorageToml(fixture, 'mixed/')}\n\n[metadata_store.fs]\nroot_dir = ${JSON.stringify(metaRoot)}\n`;
  server = await startServer({ storageToml });
});
after(async () => {
  await server?.stop();
  await fixture?.close();
  await rm(metaRoot, { recursive: true, force: true });
});

it('S3 blobs with filesystem metadata: push, pull and list work; bytes are in the bucket, tags on disk', async () => {
  const layer = content(randomBytes(256 * 1024));
  await pushBlob(server.url, 'mixed/app', layer);
  const manifest = imageManifest({ layers: [descriptorOf(layer, OCI_LAYER)] });
  expectStatus(await pushManifest(server.url, 'mixed/app', 'v1', manifest), 201);

  // Manifest bytes live in the blob store, so the GET redirects to S3 like a blob's.
  const pulled = await getManifest(server.url, 'mixed/app', 'v1');
  expectStatus(pulled, 307);
  const followed = Buffer.from(await (await fetch(String(pulled.headers.location))).arrayBuffer());
  assert.ok(followed.equals(manifest.bytes));
  const blob = await getBlob(server.url, 'mixed/app', layer.digest, { headers: { 'x-angos-no-redirect': '1' } });
  expectStatus(blob, 200);
  assert.ok(blob.body.equals(layer.bytes));
  const tags = await send(server.url, 'GET', '/v2/mixed/app/tags/list');
  assert.deepEqual(JSON.parse(tags.body.toString()), { name: 'mixed/app', tags: ['v1'] });

  const bucket = new S3ObjectStore(fixture.options({ keyPrefix: 'mixed' }));
  const disk = new FsObjectStore({ rootDir: metaRoot });
  try {
    const inBucket = (await bucket.list('v2', { limit: 1000 })).keys;
    assert.ok(inBucket.some((key) => key.startsWith('v2/blobs/')), `blob bytes in the bucket: ${inBucket.join(', ')}`);
    assert.ok(!inBucket.some((key) => key.startsWith('v2/ns/') || key.startsWith('v2/ref/')), 'no metadata in the bucket');
    const onDisk = (await disk.list('v2', { limit: 1000 })).keys;
    assert.ok(onDisk.some((key) => key.startsWith('v2/ns/mixed/app!tag/v1!')), `tag events on disk: ${onDisk.join(', ')}`);
    assert.ok(!onDisk.some((key) => key.startsWith('v2/blobs/')), 'no blob bytes on disk');
  } finally {
    bucket.destroy();
  }
});
