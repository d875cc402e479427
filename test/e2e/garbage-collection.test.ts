// Garbage collection (docs/storage.md, "Garbage collection"; docs/operations.md, "Background maintenance" and
// "scrub"): `scrub --blobs`, `--orphan-grants` and `--uploads` against a live server's storage, the writer fence, and
// the server's own background collector. Runs on the pass's backend (filesystem, or S3 on the test gateway).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { parseDigest, type Digest } from '../../src/oci/digest.ts';
import { parseNamespace } from '../../src/oci/name.ts';
import { parseSessionId } from '../../src/oci/session-id.ts';
import { exists, listAll } from '../../src/registry/json-record.ts';
import { blobKeys, gcKeys, refKeys, uploadKeys } from '../../src/registry/keys.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { runCli, type CliResult } from '../cli/cli-process.ts';
import { registryToml } from '../support/config.ts';
import { expectStatus } from '../support/expect.ts';
import { request, send } from '../support/http.ts';
import { content, descriptorOf, imageManifest, OCI_LAYER, uniqueBlob, type Content } from '../support/oci.ts';
import { deleteManifest, getBlob, pushBlob, pushImage, startUpload } from '../support/registry.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { INLINE_BODIES, openBackend, PASS_BACKEND, storeSnapshot, type StorageBackend } from '../support/storage-backends.ts';

const GRACE_SECS = 6;
const PAST_GRACE_MS = GRACE_SECS * 1000 + 600;

/** An image of one config and the given layers, pushed to `ns` under `tag`. */
const digestOf = (item: Content) => parseDigest(item.digest);
const messages = (result: CliResult) => result.logs.map((log) => String(log.fields.message));

describe(`garbage collection (${PASS_BACKEND})`, () => {
  let backend: StorageBackend;
  before(async () => {
    backend = await openBackend(PASS_BACKEND);
  });
  after(() => backend?.close());

  /** A server on a fresh place with the background collector off (scrub does the collecting), and its store. */
  async function place(globalKeys: Record<string, number | boolean> = { gc_interval_secs: 0 }): Promise<{ srv: RunningServer; store: ObjectStore; scrub: (...args: string[]) => Promise<CliResult> }> {
    const name = `gc-${randomUUID().slice(0, 8)}`;
    const srv = await startServer({
      rootDir: backend.rootDir(name),
      storageToml: backend.storageToml(name),
      extraToml: registryToml({ global: { ...INLINE_BODIES, gc_grace_secs: GRACE_SECS, ...globalKeys } }),
    });
    stops.push(() => srv.stop());
    const scrub = (...args: string[]) => runCli(['-c', srv.configPath, 'scrub', ...args], { cwd: backend.rootDir(name).replace(/[^/]+$/, ''), rustLog: 'info' });
    return { srv, store: backend.store(name), scrub };
  }
  const stops: Array<() => Promise<unknown>> = [];
  after(() => Promise.all(stops.map((stop) => stop())));

  const hasBytes = (store: ObjectStore, digest: Digest) => exists(store, blobKeys.data(digest));
  const refsOf = (store: ObjectStore, digest: Digest) => listAll(store, refKeys.digest(digest));

  it('scrub -b: unreferenced bytes survive grace, then go with their keys; owned bytes never go; -d previews and changes nothing', async () => {
    const { srv, store, scrub } = await place();
    const ns = 'gc/blobs';
    const layer = uniqueBlob('layer');
    const { manifest, config } = await pushImage(srv.url, ns, 'v1', [layer]);

    const refused = await send(srv.url, 'DELETE', `/v2/${ns}/blobs/${layer.digest}`);
    expectStatus(refused, 405);
    expectStatus(await deleteManifest(srv.url, ns, manifest.digest), 202);
    expectStatus(await send(srv.url, 'DELETE', `/v2/${ns}/blobs/${layer.digest}`), 202);

    const young = await scrub('-b');
    assert.equal(young.code, 0, young.stderr);
    assert.ok(await hasBytes(store, digestOf(manifest)), 'young manifest bytes survive');
    assert.ok(await hasBytes(store, digestOf(layer)), 'young layer bytes survive');

    await sleep(PAST_GRACE_MS);
    const before = await storeSnapshot(store);
    const preview = await scrub('-b', '-d');
    assert.equal(preview.code, 0, preview.stderr);
    const previewed = messages(preview).filter((m) => m.startsWith('DRY RUN: would delete orphan blob'));
    assert.deepEqual(previewed.sort(), [manifest.digest, layer.digest].map((d) => `DRY RUN: would delete orphan blob '${d}'`).sort());
    assert.deepEqual(await storeSnapshot(store), before, 'a dry run changes nothing');

    const real = await scrub('-b');
    assert.equal(real.code, 0, real.stderr);
    for (const gone of [manifest, layer]) {
      assert.equal(await hasBytes(store, digestOf(gone)), false, `${gone.digest} reclaimed`);
      assert.deepEqual(await refsOf(store, digestOf(gone)), [], 'its reference keys went with it');
    }
    assert.ok(await hasBytes(store, digestOf(config)), 'the config is still owned by the namespace');
    expectStatus(await getBlob(srv.url, ns, config.digest), 200);
    assert.deepEqual(await listAll(store, gcKeys.root), [], 'no run marker is left');
    assert.match(messages(real).find((m) => m.startsWith('scrub applied')) ?? '', /delete orphan blob: 2/);
  });

  it('a run marker covering a digest holds a push referencing it with 503 RECLAMATION_IN_PROGRESS until it is gone or expired; an unreadable one blocks', async () => {
    const { srv, store } = await place();
    const ns = 'gc/fence';
    const layer = uniqueBlob('layer');
    await pushBlob(srv.url, ns, layer);
    const config = uniqueBlob('config');
    await pushBlob(srv.url, ns, config);
    const manifest = imageManifest({ config: descriptorOf(config, 'application/vnd.oci.image.config.v1+json'), layers: [descriptorOf(layer, OCI_LAYER)] });
    const marker = gcKeys.marker(randomUUID());
    const body = (expiresInMs: number) => JSON.stringify({ start: layer.digest, end: layer.digest, expires_at: new Date(Date.now() + expiresInMs).toISOString(), instance: 'test' });
    const push = () => send(srv.url, 'PUT', `/v2/${ns}/manifests/v1`, { body: manifest.bytes, headers: { 'content-type': manifest.mediaType } });

    await store.put(marker, body(60_000));
    const blocked = await push();
    expectStatus(blocked, 503);
    assert.equal(blocked.headers['retry-after'], '1');
    assert.match(blocked.body.toString(), /RECLAMATION_IN_PROGRESS/);
    await store.delete(marker);
    expectStatus(await push(), 201);

    await store.put(marker, body(-1000));
    expectStatus(await push(), 201); // an expired marker does not block
    await store.put(marker, 'not json');
    expectStatus(await push(), 503); // an unreadable marker fails closed
    await store.delete(marker);
  });

  it('--orphan-grants: an old grant nothing references is revoked and its bytes reclaimed; young or referenced grants stay', async () => {
    const { srv, store, scrub } = await place();
    const ns = 'gc/grants';
    const old = uniqueBlob('abandoned');
    await pushBlob(srv.url, ns, old);
    const used = uniqueBlob('used');
    await pushImage(srv.url, ns, 'v1', [used]);
    await sleep(PAST_GRACE_MS + 1000);
    const fresh = uniqueBlob('fresh');
    await pushBlob(srv.url, ns, fresh);

    const result = await scrub('--orphan-grants', `${GRACE_SECS + 1}s`);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(messages(result).includes(`revoke orphaned blob-ownership grant '${ns}/${old.digest}'`), result.stdout);
    assert.equal(await hasBytes(store, digestOf(old)), false, 'the abandoned blob is reclaimed');
    expectStatus(await getBlob(srv.url, ns, old.digest), 404);
    for (const kept of [used, fresh]) {
      const pulled = await getBlob(srv.url, ns, kept.digest);
      expectStatus(pulled, 200);
      assert.deepEqual(pulled.body, kept.bytes);
    }
  });

  it('--uploads: idle sessions past the duration and broken ones past grace go, in upload-only namespaces too; fresh ones stay', async () => {
    const { srv, store, scrub } = await place();
    const idle = await startUpload(srv.url, 'gc/uploads');
    const uploadOnly = await startUpload(srv.url, 'only/uploads/here');
    const brokenNs = parseNamespace('gc/uploads')!;
    const brokenId = parseSessionId(randomUUID())!;
    await store.put(uploadKeys.data(brokenNs, brokenId), 'bytes without a session record');
    await pushImage(srv.url, 'gc/uploads', 'v1', []);
    await sleep(PAST_GRACE_MS + 1000);

    const before = await storeSnapshot(store);
    const preview = await scrub('-u', `${GRACE_SECS + 1}s`, '--dry-run');
    assert.equal(preview.code, 0, preview.stderr);
    assert.deepEqual(await storeSnapshot(store), before);
    const fresh = await startUpload(srv.url, 'gc/uploads');

    const result = await scrub('-u', `${GRACE_SECS + 1}s`);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      messages(result).filter((m) => m.startsWith('delete ')).sort(),
      [`delete broken upload 'gc/uploads/${brokenId}'`, `delete expired upload 'gc/uploads/${idle.id}'`, `delete expired upload 'only/uploads/here/${uploadOnly.id}'`].sort(),
    );
    assert.deepEqual(messages(preview).filter((m) => m.startsWith('DRY RUN: would delete ')).sort(), messages(result).filter((m) => m.startsWith('delete ')).map((m) => `DRY RUN: would ${m}`).sort());
    for (const gone of [idle, uploadOnly]) expectStatus(await request(srv.url, gone.location), 404);
    expectStatus(await request(srv.url, fresh.location), 204);
    assert.equal(await exists(store, uploadKeys.data(brokenNs, brokenId)), false);
  });

  it('scrub with no check changes nothing and exits 0; an invalid duration exits 1 before touching storage', async () => {
    const { srv, store, scrub } = await place();
    await pushImage(srv.url, 'gc/noop', 'v1', [uniqueBlob('layer')]);
    await startUpload(srv.url, 'gc/noop');
    const before = await storeSnapshot(store);
    const none = await scrub();
    assert.equal(none.code, 0, none.stderr);
    const invalid = await scrub('-u', '5x');
    assert.equal(invalid.code, 1);
    assert.deepEqual(await storeSnapshot(store), before);
  });

  it('the server frees a deleted image\'s bytes by itself; a layer another namespace still uses stays pullable', async () => {
    const { srv, store } = await place({ gc_interval_secs: 3600, gc_after_delete_secs: 1, gc_orphan_grant_age_secs: 1 });
    const shared = content(Buffer.from(`shared layer ${randomUUID()}`));
    const own = uniqueBlob('own layer');
    const doomed = await pushImage(srv.url, 'gc/doomed', 'v1', [shared, own]);
    const kept = await pushImage(srv.url, 'gc/kept', 'v1', [shared]);
    expectStatus(await deleteManifest(srv.url, 'gc/doomed', doomed.manifest.digest), 202);

    // The run the delete triggers finds everything younger than grace and runs again once grace has passed.
    const deadline = Date.now() + 30_000;
    const freed = [doomed.manifest, own, doomed.config].map(digestOf);
    while (Date.now() < deadline) {
      if (!(await Promise.all(freed.map((d) => hasBytes(store, d)))).some(Boolean)) break;
      await sleep(500);
    }
    for (const digest of freed) assert.equal(await hasBytes(store, digest), false, `${digest} was freed without scrub`);
    for (const blob of [shared, kept.config]) {
      const pulled = await getBlob(srv.url, 'gc/kept', blob.digest);
      expectStatus(pulled, 200);
      assert.deepEqual(pulled.body, blob.bytes);
    }
    const metrics = (await request(srv.url, '/metrics')).body.toString();
    assert.match(metrics, /angos_gc_bytes_reclaimed_total\{trigger="background"\} [1-9]/);
    const runs = srv.logs.map((line) => (line as { fields?: Record<string, unknown> }).fields ?? {}).filter((fields) => fields.message === 'garbage collection run finished');
    assert.ok(runs.some((fields) => Number(fields.blobs_reclaimed) > 0 && Number(fields.bytes_reclaimed) > 0 && fields.digests_examined !== undefined), 'a run logs its line');
  });
});
