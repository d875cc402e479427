import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { expectError, expectStatus, header } from '../support/expect.ts';
import { jsonBody, send } from '../support/http.ts';
import { content, descriptorOf, imageManifest, OCI_CONFIG, OCI_LAYER, sha256 } from '../support/oci.ts';
import { getBlob, getManifest, headBlob, patchChunk, pushBlob, putManifest, startUpload } from '../support/registry.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { committedSize, completeUpload } from '../support/upload-session.ts';

const MiB = 1024 * 1024;

/**
 * Two replicas on one storage root, as behind a load balancer (docs/storage.md, "Why several servers can share one
 * directory").
 */
describe('two servers sharing one storage root', () => {
  let rootDir: string;
  let one: RunningServer;
  let two: RunningServer;

  before(async () => {
    rootDir = await mkdtemp(join(tmpdir(), 'angos-shared-root-'));
    [one, two] = await Promise.all([startServer({ rootDir }), startServer({ rootDir })]);
  });
  after(async () => {
    await Promise.all([one?.stop(), two?.stop()]);
    await rm(rootDir, { recursive: true, force: true });
  });

  test('an upload session hops between servers and survives a restart', async () => {
    const name = 'shared/upload';
    const blob = randomBytes(5 * MiB + 123);
    const cuts = [0, 2 * MiB, 3 * MiB + 7, 4 * MiB + 11, 5 * MiB, blob.length];
    const chunk = (index: number) => blob.subarray(cuts[index], cuts[index + 1]);
    let { location } = await startUpload(one.url, name);

    // Every step runs on a server whose in-memory view (if any) is stale: the other one appended last.
    const steps: Array<() => RunningServer> = [() => one, () => two, () => one, () => two];
    for (const [index, server] of steps.entries()) {
      if (index === 2) {
        await one.stop();
        one = await startServer({ rootDir });
      }
      const response = await patchChunk(server().url, location, chunk(index), cuts[index]!);
      expectStatus(response, 202);
      assert.equal(committedSize(response), cuts[index + 1]);
      location = header(response, 'location') ?? assert.fail('PATCH 202 without Location');
      const other = index % 2 === 0 ? two : one;
      const status = await send(other.url, 'GET', location);
      expectStatus(status, 204);
      assert.equal(committedSize(status), cuts[index + 1], `the other server's view after step ${index}`);
    }

    const digest = sha256(blob);
    const done = await completeUpload(one.url, location, digest, chunk(4));
    expectStatus(done, 201);
    assert.equal(header(done, 'docker-content-digest'), digest);
    assert.equal(header(done, 'location'), `/v2/${name}/blobs/${digest}`);

    for (const server of [one, two]) {
      const read = await getBlob(server.url, name, digest);
      expectStatus(read, 200);
      assert.equal(read.body.length, blob.length);
      assert.equal(sha256(read.body), digest, `blob bytes via ${server.url}`);
      expectError(await send(server.url, 'GET', location), 404, 'BLOB_UPLOAD_UNKNOWN');
    }
  });

  test('a blob pushed through one server is readable through the other', async () => {
    const blob = content(randomBytes(2 * MiB + 5));
    await pushBlob(one.url, 'shared/blob', blob);

    const head = await headBlob(two.url, 'shared/blob', blob.digest);
    expectStatus(head, 200);
    assert.equal(header(head, 'content-length'), String(blob.size));
    const read = await getBlob(two.url, 'shared/blob', blob.digest);
    expectStatus(read, 200);
    assert.ok(read.body.equals(blob.bytes), 'bytes read through server two differ from those pushed through one');
    // Sharing storage does not share visibility: another namespace still cannot read it.
    expectError(await headBlob(two.url, 'shared/other', blob.digest), 404, 'BLOB_UNKNOWN', { head: true });
  });

  test('concurrent pushes of different manifests to one tag agree on a winner', async () => {
    const name = 'shared/race';
    const config = content(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    const layer = content(randomBytes(64 * 1024));
    await pushBlob(one.url, name, config);
    await pushBlob(two.url, name, layer);
    const manifestFor = (writer: string, round: number) =>
      imageManifest({
        config: descriptorOf(config, OCI_CONFIG),
        layers: [descriptorOf(layer, OCI_LAYER)],
        annotations: { writer, round: String(round) },
      });

    const tags: string[] = [];
    for (let round = 0; round < 20; round++) {
      const tag = `race-${String(round).padStart(2, '0')}`;
      tags.push(tag);
      const manifests = [manifestFor('one', round), manifestFor('two', round)];
      const pushes = await Promise.all([
        putManifest(one.url, name, tag, manifests[0]!),
        putManifest(two.url, name, tag, manifests[1]!),
      ]);
      pushes.forEach((push, index) => {
        expectStatus(push, 201);
        assert.equal(header(push, 'docker-content-digest'), manifests[index]!.digest);
      });

      const resolved = await Promise.all([one, two].map((server) => getManifest(server.url, name, tag)));
      for (const response of resolved) expectStatus(response, 200);
      const winners = resolved.map((response) => sha256(response.body));
      assert.equal(winners[0], winners[1], `round ${round}: the servers disagree on ${tag}`);
      const pushed = manifests.map((manifest) => manifest.digest);
      assert.ok(pushed.includes(winners[0]!), `round ${round}: ${tag} resolves to ${winners[0]}, pushed ${pushed}`);

      // The loser is only untagged: both revisions stay pullable by digest through both servers.
      for (const server of [one, two]) {
        for (const manifest of manifests) {
          const response = await getManifest(server.url, name, manifest.digest);
          expectStatus(response, 200);
          assert.ok(response.body.equals(manifest.bytes), `round ${round}: ${manifest.digest} bytes via ${server.url}`);
        }
      }
    }

    for (const server of [one, two]) {
      const listing = await send(server.url, 'GET', `/v2/${name}/tags/list`);
      expectStatus(listing, 200);
      assert.deepEqual(jsonBody(listing), { name, tags }, `tags via ${server.url}`);
      for (const blob of [config, layer]) {
        const read = await getBlob(server.url, name, blob.digest);
        expectStatus(read, 200);
        assert.ok(read.body.equals(blob.bytes), `blob ${blob.digest} via ${server.url}`);
      }
    }
  });
});

/** Write-once immutable tags across processes (docs/storage.md, "Immutable tags"). */
describe('two servers racing first pushes of an immutable tag', () => {
  let rootDir: string;
  let one: RunningServer;
  let two: RunningServer;

  before(async () => {
    rootDir = await mkdtemp(join(tmpdir(), 'angos-shared-immutable-'));
    const extraToml = '[repository."locked"]\nimmutable_tags = true\n';
    [one, two] = await Promise.all([startServer({ rootDir, extraToml }), startServer({ rootDir, extraToml })]);
  });
  after(async () => {
    await Promise.all([one?.stop(), two?.stop()]);
    await rm(rootDir, { recursive: true, force: true });
  });

  test('50 parallel first pushes of different manifests: exactly one 201, every other 409 DENIED, both servers agree', async () => {
    const manifests = Array.from({ length: 50 }, () => imageManifest());
    const servers = manifests.map((_, i) => (i % 2 === 0 ? one : two));
    const responses = await Promise.all(manifests.map((manifest, i) => putManifest(servers[i]!.url, 'locked/app', 'v1', manifest)));
    const created = responses.flatMap((r, i) => (r.status === 201 ? [i] : []));
    assert.equal(created.length, 1, `201s: ${created.length}`);
    for (const response of responses.filter((r) => r.status !== 201)) expectError(response, 409, 'DENIED');
    const winner = header(responses[created[0]!]!, 'docker-content-digest');
    // On S3 each server's in-memory link cache may answer a tag lookup up to link_cache_ttl late (docs/storage.md,
    // "S3 link cache"), so there the tag is read through the server that took the push, and by digest through both.
    const readers = process.env.ANGOS_TEST_STORAGE === 's3' ? [servers[created[0]!]!] : [one, two];
    for (const server of readers) assert.equal(header(await getManifest(server.url, 'locked/app', 'v1'), 'docker-content-digest'), winner);
    for (const server of [one, two]) expectStatus(await getManifest(server.url, 'locked/app', winner!), 200);
  });
});
