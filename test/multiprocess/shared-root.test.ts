import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sha256Digest } from '../support/digests.ts';
import {
  assertStatus,
  committedSize,
  completeUpload,
  getManifest,
  locationUrl,
  patchChunk,
  pushBlob,
  putManifest,
  send,
  startUpload,
} from '../support/registry-http.ts';
import { startServer, type RunningServer } from '../support/server.ts';

const MiB = 1024 * 1024;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** Two replicas on one storage root, as behind a load balancer (decision 13, chapter 04 §1.3). */
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

  /** The same session path, addressed to another replica. */
  const on = (server: RunningServer, sessionUrl: string): string => {
    const { pathname, search } = new URL(sessionUrl);
    return `${server.url}${pathname}${search}`;
  };

  test('an upload session hops between servers and survives a restart (chapter 04 scenario 9)', async () => {
    const name = 'shared/upload';
    const blob = randomBytes(5 * MiB + 123);
    const cuts = [0, 2 * MiB, 3 * MiB + 7, 4 * MiB + 11, 5 * MiB, blob.length];
    const chunk = (index: number) => blob.subarray(cuts[index], cuts[index + 1]);
    // Like clients, each request goes to the Location of the previous answer, here re-addressed to a replica.
    let session = await startUpload(one.url, name);

    // Each step runs on a server whose in-memory view (if any) is stale: the other one appended last.
    const steps: Array<() => RunningServer> = [() => one, () => two, () => one, () => two];
    for (const [index, server] of steps.entries()) {
      if (index === 2) {
        await one.stop();
        one = await startServer({ rootDir });
      }
      const response = await patchChunk(on(server(), session), chunk(index), cuts[index]!);
      assertStatus(response, 202);
      assert.equal(committedSize(response), cuts[index + 1], response.describe);
      session = locationUrl(server().url, response);
      const status = await send('GET', on(index % 2 === 0 ? two : one, session));
      assertStatus(status, 204);
      assert.equal(committedSize(status), cuts[index + 1], `the other server's view: ${status.describe}`);
    }

    const digest = sha256Digest(blob);
    const done = await completeUpload(on(one, session), digest, chunk(4));
    assertStatus(done, 201);
    assert.equal(done.headers.get('docker-content-digest'), digest, done.describe);
    assert.equal(new URL(locationUrl(one.url, done)).pathname, `/v2/${name}/blobs/${digest}`, done.describe);

    for (const server of [one, two]) {
      const read = await send('GET', `${server.url}/v2/${name}/blobs/${digest}`);
      assertStatus(read, 200);
      assert.equal(read.body.length, blob.length);
      assert.equal(sha256Digest(read.body), digest);
      assertStatus(await send('GET', on(server, session)), 404, 'BLOB_UPLOAD_UNKNOWN');
    }
  });

  test('a blob pushed through one server is readable through the other', async () => {
    const blob = randomBytes(2 * MiB + 5);
    const digest = await pushBlob(one.url, 'shared/blob', blob);

    const head = await send('HEAD', `${two.url}/v2/shared/blob/blobs/${digest}`);
    assertStatus(head, 200);
    assert.equal(head.headers.get('content-length'), String(blob.length));
    const read = await send('GET', `${two.url}/v2/shared/blob/blobs/${digest}`);
    assertStatus(read, 200);
    assert.ok(read.body.equals(blob), 'bytes read through server two differ from those pushed through one');
    // Sharing storage does not share visibility: another namespace still cannot read it.
    assertStatus(await send('HEAD', `${two.url}/v2/shared/other/blobs/${digest}`), 404);
  });

  test('concurrent pushes of different manifests to one tag agree on a winner (chapter 04 scenario 1)', async () => {
    const name = 'shared/race';
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    const layer = randomBytes(64 * 1024);
    const configDigest = await pushBlob(one.url, name, config);
    const layerDigest = await pushBlob(two.url, name, layer);
    const manifestFor = (writer: string, round: number): Buffer =>
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
          annotations: { writer, round: String(round) },
        }),
      );

    const tags: string[] = [];
    for (let round = 0; round < 20; round++) {
      const tag = `race-${String(round).padStart(2, '0')}`;
      tags.push(tag);
      const bodies = [manifestFor('one', round), manifestFor('two', round)];
      const digests = bodies.map((body) => sha256Digest(body));
      const pushes = await Promise.all([
        putManifest(one.url, name, tag, bodies[0]!, OCI_MANIFEST),
        putManifest(two.url, name, tag, bodies[1]!, OCI_MANIFEST),
      ]);
      pushes.forEach((push, index) => {
        assertStatus(push, 201);
        assert.equal(push.headers.get('docker-content-digest'), digests[index], push.describe);
      });

      const resolved = await Promise.all([one, two].map((server) => getManifest(server.url, name, tag)));
      for (const response of resolved) assertStatus(response, 200);
      const winners = resolved.map((response) => sha256Digest(response.body));
      assert.equal(winners[0], winners[1], `round ${round}: the servers disagree on ${tag}`);
      assert.ok(digests.includes(winners[0]!), `round ${round}: ${tag} resolves to ${winners[0]}, pushed ${digests}`);

      // The loser is only untagged: both revisions stay pullable by digest through both servers.
      for (const server of [one, two]) {
        for (const [index, digest] of digests.entries()) {
          const response = await getManifest(server.url, name, digest);
          assertStatus(response, 200);
          assert.ok(response.body.equals(bodies[index]!), `round ${round}: ${digest} bytes via ${server.url}`);
        }
      }
    }

    for (const server of [one, two]) {
      const listing = await send('GET', `${server.url}/v2/${name}/tags/list`);
      assertStatus(listing, 200);
      assert.deepEqual(JSON.parse(listing.body.toString('utf8')), { name, tags });
      for (const [digest, bytes] of [
        [configDigest, config],
        [layerDigest, layer],
      ] as const) {
        const read = await send('GET', `${server.url}/v2/${name}/blobs/${digest}`);
        assertStatus(read, 200);
        assert.ok(read.body.equals(bytes), `blob ${digest} via ${server.url}`);
      }
    }
  });
});
