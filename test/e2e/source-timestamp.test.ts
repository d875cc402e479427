// `X-Angos-Source-Timestamp` last-writer-wins at the receiver (docs/api.md, "Replicated writes"). Every stamp is
// explicit and in the past, except the clamping case, whose digests are ordered so that a same-millisecond tie
// cannot change the outcome.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectEmpty, expectError, expectStatus, header } from '../support/expect.ts';
import { send, type HttpResponse } from '../support/http.ts';
import { imageManifest, type Manifest } from '../support/oci.ts';
import { getManifest, pushManifest } from '../support/registry.ts';
import { useServer } from '../support/registry-server.ts';

const HOUR = 3_600_000;

function stamp(offsetMs: number): string {
  return new Date(Date.now() + offsetMs).toISOString();
}

/** Two fresh manifests, the first with the smaller digest. */
function orderedPair(): [Manifest, Manifest] {
  const a = imageManifest();
  const b = imageManifest();
  return a.digest < b.digest ? [a, b] : [b, a];
}

describe('X-Angos-Source-Timestamp', () => {
  const srv = useServer();

  function replicatedPut(name: string, reference: string, manifest: Manifest, ts: string, query = ''): Promise<HttpResponse> {
    return send(srv.url, 'PUT', `/v2/${name}/manifests/${reference}${query}`, {
      headers: { 'content-type': manifest.mediaType, 'x-angos-source-timestamp': ts },
      body: manifest.bytes,
    });
  }

  function replicatedDelete(name: string, reference: string, ts: string): Promise<HttpResponse> {
    return send(srv.url, 'DELETE', `/v2/${name}/manifests/${reference}`, { headers: { 'x-angos-source-timestamp': ts } });
  }

  async function expectTagAt(name: string, tag: string, manifest: Manifest): Promise<void> {
    const read = await getManifest(srv.url, name, tag);
    expectStatus(read, 200);
    assert.equal(header(read, 'docker-content-digest'), manifest.digest);
  }

  it('an older replicated tag PUT → 409 REPLICATION_SUPERSEDED and nothing changes; a newer one → 201', async () => {
    const [first, older, newer] = [imageManifest(), imageManifest(), imageManifest()];
    expectEmpty(await replicatedPut('lww/put', 't', first, stamp(-2 * HOUR)), 201);
    expectError(await replicatedPut('lww/put', 't', older, stamp(-3 * HOUR)), 409, 'REPLICATION_SUPERSEDED');
    await expectTagAt('lww/put', 't', first);
    expectEmpty(await replicatedPut('lww/put', 't', newer, stamp(-1 * HOUR)), 201);
    await expectTagAt('lww/put', 't', newer);
  });

  it('a plain push is a local write: an older replicated PUT loses to it, another plain push overwrites', async () => {
    const [first, plain] = [imageManifest(), imageManifest()];
    await pushManifest(srv.url, 'lww/plain', 't', first);
    expectError(await replicatedPut('lww/plain', 't', imageManifest(), stamp(-HOUR)), 409, 'REPLICATION_SUPERSEDED');
    await pushManifest(srv.url, 'lww/plain', 't', plain);
    await expectTagAt('lww/plain', 't', plain);
  });

  for (const [index, value] of ['garbage', '2026-13-45T99:00:00Z', '1700000000', '2000-01-01T00:00:00', '2000-01-01'].entries()) {
    it(`an unparsable header ${JSON.stringify(value)} is a normal write`, async () => {
      const [first, second] = [imageManifest(), imageManifest()];
      const name = `lww/bad${index}`;
      expectEmpty(await replicatedPut(name, 't', first, stamp(HOUR / 2 - HOUR)), 201);
      expectEmpty(await replicatedPut(name, 't', second, value), 201);
      await expectTagAt(name, 't', second);
    });
  }

  it('a timestamp without an offset is no source timestamp: a DELETE stamped 2000-01-01T00:00:00 of a tag pushed now goes through', async () => {
    const manifest = imageManifest();
    await pushManifest(srv.url, 'lww/local', 't', manifest);
    expectEmpty(await replicatedDelete('lww/local', 't', '2000-01-01T00:00:00'), 202);
    expectError(await getManifest(srv.url, 'lww/local', 't'), 404, 'MANIFEST_UNKNOWN');
  });

  it('stamps in the same millisecond are compared to the microsecond, whatever their offsets', async () => {
    const [small, large] = orderedPair();
    const ms = new Date(Date.now() - HOUR).toISOString().slice(0, 23);
    expectEmpty(await replicatedPut('lww/micro', 't', small, `${ms}700Z`), 201);
    // Same millisecond, 200 µs earlier: superseded although its digest is larger.
    expectError(await replicatedPut('lww/micro', 't', large, `${ms}500Z`), 409, 'REPLICATION_SUPERSEDED');
    await expectTagAt('lww/micro', 't', small);
    const local = new Date(`${ms}Z`);
    const shifted = new Date(local.getTime() + 2 * HOUR).toISOString().slice(0, 23);
    // 100 µs later, written in +02:00: it wins.
    expectEmpty(await replicatedPut('lww/micro', 't', large, `${shifted}800+02:00`), 201);
    await expectTagAt('lww/micro', 't', large);
    expectError(await replicatedDelete('lww/micro', 't', `${ms}799Z`), 409, 'REPLICATION_SUPERSEDED');
    expectEmpty(await replicatedDelete('lww/micro', 't', `${ms}801Z`), 202);
  });

  it('equal stamps keep the larger digest', async () => {
    const [small, large] = orderedPair();
    const ts = stamp(-HOUR);
    expectEmpty(await replicatedPut('lww/tie1', 't', large, ts), 201);
    expectError(await replicatedPut('lww/tie1', 't', small, ts), 409, 'REPLICATION_SUPERSEDED');
    await expectTagAt('lww/tie1', 't', large);

    expectEmpty(await replicatedPut('lww/tie2', 't', small, ts), 201);
    expectEmpty(await replicatedPut('lww/tie2', 't', large, ts), 201);
    await expectTagAt('lww/tie2', 't', large);
  });

  it('a stamp a year ahead is clamped to now, so a later write can still win', async () => {
    const [first, second] = orderedPair();
    expectEmpty(await replicatedPut('lww/clamp', 't', first, stamp(365 * 24 * HOUR)), 201);
    // Clamped to the receiver's clock; were the year-ahead value stored, this one would be superseded.
    expectEmpty(await replicatedPut('lww/clamp', 't', second, stamp(HOUR)), 201);
    await expectTagAt('lww/clamp', 't', second);
  });

  it('a by-digest PUT is never rejected, with or without ?tag=', async () => {
    const first = imageManifest();
    expectEmpty(await replicatedPut('lww/digest', 't', first, stamp(-HOUR)), 201);
    const byDigest = imageManifest();
    expectEmpty(await replicatedPut('lww/digest', byDigest.digest, byDigest, stamp(-3 * HOUR), '?tag=t'), 201);
    expectStatus(await getManifest(srv.url, 'lww/digest', byDigest.digest), 200);
  });

  it('an older replicated tag DELETE → 409 and the tag stays; a newer one → 202', async () => {
    const manifest = imageManifest();
    expectEmpty(await replicatedPut('lww/deltag', 't', manifest, stamp(-2 * HOUR)), 201);
    expectError(await replicatedDelete('lww/deltag', 't', stamp(-3 * HOUR)), 409, 'REPLICATION_SUPERSEDED');
    await expectTagAt('lww/deltag', 't', manifest);
    expectEmpty(await replicatedDelete('lww/deltag', 't', stamp(-HOUR)), 202);
    expectError(await getManifest(srv.url, 'lww/deltag', 't'), 404, 'MANIFEST_UNKNOWN');
  });

  it('a replicated digest DELETE older than a pointing tag → 409, nothing removed', async () => {
    const manifest = imageManifest();
    expectEmpty(await replicatedPut('lww/deldigest', 't', manifest, stamp(-2 * HOUR)), 201);
    expectError(await replicatedDelete('lww/deldigest', manifest.digest, stamp(-3 * HOUR)), 409, 'REPLICATION_SUPERSEDED');
    await expectTagAt('lww/deldigest', 't', manifest);
    expectStatus(await getManifest(srv.url, 'lww/deldigest', manifest.digest), 200);
    expectEmpty(await replicatedDelete('lww/deldigest', manifest.digest, stamp(-HOUR)), 202);
    expectError(await getManifest(srv.url, 'lww/deldigest', manifest.digest), 404, 'MANIFEST_UNKNOWN');
    expectError(await getManifest(srv.url, 'lww/deldigest', 't'), 404, 'MANIFEST_UNKNOWN');
  });
});
