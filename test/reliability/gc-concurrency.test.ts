// Online garbage collection beside live traffic (docs/storage.md, "Garbage collection"): two servers share one
// storage root (one bucket prefix on S3), both running their background collector every second, while `scrub -b`
// runs in a loop and clients push images that share layers with images other clients delete. The collector may
// answer a writer 503 (RECLAMATION_IN_PROGRESS), never delete bytes a stored manifest needs: afterwards every
// manifest a tag serves has every blob pullable with the right bytes, and once grace has passed every blob no
// namespace references is gone. Runs on the pass's backend.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { blobKeys } from '../../src/registry/keys.ts';
import { runCli } from '../cli/cli-process.ts';
import { registryToml } from '../support/config.ts';
import { jsonBody, send, type HttpResponse } from '../support/http.ts';
import { content, descriptorOf, imageManifest, OCI_CONFIG, OCI_LAYER, sha256, type Content, type Manifest } from '../support/oci.ts';
import { seededBytes } from '../support/seeded-bytes.ts';
import { SeededRandom } from '../support/seeded-random.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { INLINE_BODIES, openBackend, PASS_BACKEND, type StorageBackend } from '../support/storage-backends.ts';
import { Tally } from '../support/tally.ts';

const GRACE_SECS = 2;
const ORPHAN_GRANT_SECS = 3;
/** Operations per client, clients at once (S3 requests take several times longer on this machine). */
const OPERATIONS = PASS_BACKEND === 's3' ? 20 : 80;
const CLIENTS = 4;
/** Rounds of the fence race, and blobs each round offers the collector while pushes reference them. */
const RACE_ROUNDS = PASS_BACKEND === 's3' ? 2 : 5;
const RACE_BLOBS = 20;
const NAMESPACES = ['gc/a', 'gc/b', 'gc/c'];
/** Layers every image picks from: shared by images of every namespace, so deletes keep orphaning shared bytes. */
const SHARED_LAYERS = Array.from({ length: 6 }, (_, i) => content(seededBytes(`shared layer ${i}`, 2048)));

const KINDS = ['manifest served with a missing blob', 'blob served with wrong bytes', 'unreferenced blob left after grace', 'unexpected answer'] as const;

describe(`online garbage collection beside live traffic (${PASS_BACKEND})`, () => {
  let backend: StorageBackend;
  const servers: RunningServer[] = [];
  const place = `gc-race-${randomUUID().slice(0, 8)}`;

  before(async () => {
    backend = await openBackend(PASS_BACKEND, { linkCacheTtl: 0 });
    const toml = registryToml({
      global: {
        ...INLINE_BODIES,
        allow_missing_manifest_references: false,
        gc_grace_secs: GRACE_SECS,
        gc_interval_secs: 1,
        gc_after_delete_secs: 0,
        gc_orphan_grant_age_secs: ORPHAN_GRANT_SECS,
      },
    });
    for (let i = 0; i < 2; i++) servers.push(await startServer({ rootDir: backend.rootDir(place), storageToml: backend.storageToml(place), extraToml: toml }));
  });
  after(async () => {
    await Promise.all(servers.map((srv) => srv.stop()));
    await backend?.close();
  });

  test('pushes, deletes, background collectors and a scrub -b loop: nothing served loses bytes, nothing orphaned stays', async (t) => {
    const tally = new Tally(KINDS);
    const counts = { pushed: 0, deleted: 0, reclamation503: 0, blobUnknownRetries: 0, scrubRuns: 0 };
    /** Manifests pushed and not deleted, per namespace and tag. */
    const scrub = (...args: string[]) => runCli(['-c', servers[0]!.configPath, 'scrub', ...args], { cwd: backend.rootDir(place).replace(/[^/]+$/, '') });

    let traffic = true;
    const scrubLoop = (async () => {
      while (traffic) {
        const run = await scrub('-b');
        counts.scrubRuns++;
        if (run.code !== 0) tally.flag('unexpected answer', `scrub -b exited ${run.code}: ${run.stderr.slice(0, 200)}`);
      }
    })();

    const client = async (index: number) => {
      const random = new SeededRandom(`gc-client-${index}`);
      const mine: Array<{ ns: string; manifest: Manifest }> = [];
      for (let op = 0; op < OPERATIONS; op++) {
        const srv = servers[random.int(0, servers.length - 1)]!;
        if (mine.length > 0 && random.chance(0.4)) {
          const victim = mine.splice(random.int(0, mine.length - 1), 1)[0]!;
          const answer = await send(srv.url, 'DELETE', `/v2/${victim.ns}/manifests/${victim.manifest.digest}`);
          if (answer.status !== 202) tally.flag('unexpected answer', `delete ${answer.status}`);
          else counts.deleted++;
          continue;
        }
        const ns = random.pick(NAMESPACES);
        const layers = [random.pick(SHARED_LAYERS), content(seededBytes(`own ${index}-${op}`, 1024))];
        const config = content(JSON.stringify({ architecture: 'amd64', os: 'linux', comment: `${index}-${op}` }));
        const manifest = imageManifest({ config: descriptorOf(config, OCI_CONFIG), layers: layers.map((layer) => descriptorOf(layer, OCI_LAYER)) });
        if (await pushWithRetries(srv, ns, `t${index}-${op % 5}`, [config, ...layers], manifest, counts, tally)) {
          mine.push({ ns, manifest });
          counts.pushed++;
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
    traffic = false;
    await scrubLoop;

    // Everything served now must be whole.
    const referenced = new Set<string>();
    for (const ns of NAMESPACES) {
      const tags = (jsonBody(await send(servers[0]!.url, 'GET', `/v2/${ns}/tags/list`)) as { tags?: string[] }).tags ?? [];
      for (const tag of tags) {
        const got = await send(servers[1]!.url, 'GET', `/v2/${ns}/manifests/${tag}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
        if (got.status !== 200) continue; // deleted between the listing and the GET
        referenced.add(sha256(got.body));
        const parsed = JSON.parse(got.body.toString('utf8')) as { config: { digest: string }; layers: Array<{ digest: string }> };
        for (const digest of [parsed.config.digest, ...parsed.layers.map((layer) => layer.digest)]) {
          referenced.add(digest);
          const blob = await send(servers[0]!.url, 'GET', `/v2/${ns}/blobs/${digest}`);
          if (blob.status !== 200) tally.flag('manifest served with a missing blob', `${ns}:${tag} → ${digest}: ${blob.status}`);
          else if (sha256(blob.body) !== digest) tally.flag('blob served with wrong bytes', `${ns} ${digest}`);
        }
      }
    }
    // Revisions still held by digest (a delete of the tag's older target leaves the revision) are referenced too.
    for (const ns of NAMESPACES) {
      const listed = jsonBody(await send(servers[0]!.url, 'GET', `/v2/${ns}/_angos/revisions/list`)) as { manifests?: Array<{ digest: string }> };
      for (const { digest } of listed.manifests ?? []) {
        const got = await send(servers[0]!.url, 'GET', `/v2/${ns}/manifests/${digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
        if (got.status !== 200) continue;
        referenced.add(digest);
        const parsed = JSON.parse(got.body.toString('utf8')) as { config: { digest: string }; layers: Array<{ digest: string }> };
        for (const blob of [parsed.config.digest, ...parsed.layers.map((layer) => layer.digest)]) referenced.add(blob);
      }
    }

    // After grace and the grant age, the collectors (and one last scrub) leave exactly the referenced bytes.
    await sleep((Math.max(GRACE_SECS, ORPHAN_GRANT_SECS) + 1) * 1000);
    const final = await scrub('-b', '--orphan-grants', `${ORPHAN_GRANT_SECS}s`);
    assert.equal(final.code, 0, final.stderr);
    const store = backend.store(place);
    const stored: string[] = [];
    for (let page = await store.list(blobKeys.root); ; page = await store.list(blobKeys.root, { startAfter: page.next! })) {
      for (const key of page.keys) stored.push(blobKeys.parseData(key)!);
      if (page.next === undefined) break;
    }
    for (const digest of stored) if (!referenced.has(digest)) tally.flag('unreferenced blob left after grace', digest);
    for (const digest of referenced) if (!stored.includes(digest)) tally.flag('manifest served with a missing blob', `${digest} gone after the final collection`);

    t.diagnostic(`operations: ${JSON.stringify(counts)}; blobs stored at the end: ${stored.length}`);
    tally.report(t);
    assert.deepEqual(tally.counts, tally.zeroes);
    assert.ok(counts.pushed > 0 && counts.deleted > 0 && counts.scrubRuns > 0, 'the race had pushes, deletes and scrub runs');
  });

  test('pushes referencing old unreferenced blobs while scrub -b reclaims them: 503 or pullable, never a manifest without its bytes', async (t) => {
    const tally = new Tally(KINDS);
    const outcomes = { stored: 0, refused503: 0, grantRevokedFirst: 0, reclaimedMeanwhile: 0 };
    // A server of its own with the background collector off, so the scrub is the collector the pushes race.
    const own = `${place}-fence`;
    const srv = await startServer({
      rootDir: backend.rootDir(own),
      storageToml: backend.storageToml(own),
      extraToml: registryToml({ global: { ...INLINE_BODIES, allow_missing_manifest_references: false, gc_grace_secs: GRACE_SECS, gc_interval_secs: 0 } }),
    });
    servers.push(srv);
    const ns = 'gc/race';
    const scrub = () => runCli(['-c', srv.configPath, 'scrub', '-b'], { cwd: backend.rootDir(own).replace(/[^/]+$/, ''), rustLog: 'info' });
    const random = new SeededRandom('gc-fence-race');
    for (let round = 0; round < RACE_ROUNDS; round++) {
      // Blobs whose only grant is revoked: unreferenced bytes, old once grace has passed.
      const blobs = Array.from({ length: RACE_BLOBS }, (_, i) => content(seededBytes(`orphan ${round}-${i}`, 1024)));
      for (const blob of blobs) {
        assert.equal((await send(srv.url, 'POST', `/v2/${ns}/blobs/uploads/?digest=${blob.digest}`, { body: blob.bytes })).status, 201);
        assert.equal((await send(srv.url, 'DELETE', `/v2/${ns}/blobs/${blob.digest}`)).status, 202);
      }
      await sleep(GRACE_SECS * 1000 + 500);
      const collecting = scrub();
      const stored: Content[] = [];
      await Promise.all(
        blobs.map(async (layer, i) => {
          await sleep(random.int(0, 5000));
          const config = content(JSON.stringify({ architecture: 'amd64', os: 'linux', comment: `race ${round}-${i}` }));
          const manifest = imageManifest({ config: descriptorOf(config, OCI_CONFIG), layers: [descriptorOf(layer, OCI_LAYER)] });
          const blobAnswers = await Promise.all([config, layer].map((blob) => send(srv.url, 'POST', `/v2/${ns}/blobs/uploads/?digest=${blob.digest}`, { body: blob.bytes })));
          if (blobAnswers.some((answer) => answer.status === 503)) return void outcomes.refused503++;
          if (blobAnswers.some((answer) => answer.status !== 201)) return tally.flag('unexpected answer', `blob upload ${blobAnswers.map((a) => a.status).join(',')}`);
          const answer = await send(srv.url, 'PUT', `/v2/${ns}/manifests/${manifest.digest}`, { body: manifest.bytes, headers: { 'content-type': manifest.mediaType } });
          if (answer.status === 503) return void outcomes.refused503++;
          // Slower than `gc_orphan_grant_age_secs` between its upload and its manifest, the client lost its grant to
          // a background run: the documented answer, which a client's retry of the whole push resolves.
          if (answer.status === 404 && answer.body.toString('utf8').includes('MANIFEST_BLOB_UNKNOWN')) return void outcomes.grantRevokedFirst++;
          if (answer.status !== 201) return tally.flag('unexpected answer', `manifest push ${answer.status} ${answer.body.toString('utf8').slice(0, 120)}`);
          outcomes.stored++;
          stored.push(layer);
          const pulled = await send(srv.url, 'GET', `/v2/${ns}/blobs/${layer.digest}`);
          if (pulled.status !== 200) tally.flag('manifest served with a missing blob', `${layer.digest}: ${pulled.status}`);
          else if (sha256(pulled.body) !== layer.digest) tally.flag('blob served with wrong bytes', layer.digest);
        }),
      );
      const run = await collecting;
      assert.equal(run.code, 0, run.stderr);
      const line = run.logs.find((log) => log.fields.message === 'garbage collection run finished');
      outcomes.reclaimedMeanwhile += Number(line?.fields.blobs_reclaimed ?? 0);
      // Once the scrub is over, every layer a stored manifest names still has its bytes.
      for (const layer of stored) {
        const pulled = await send(srv.url, 'GET', `/v2/${ns}/blobs/${layer.digest}`);
        if (pulled.status !== 200 || sha256(pulled.body) !== layer.digest) tally.flag('manifest served with a missing blob', `${layer.digest} after the scrub: ${pulled.status}`);
      }
    }
    t.diagnostic(`races: ${RACE_ROUNDS * RACE_BLOBS}; outcomes: ${JSON.stringify(outcomes)}`);
    tally.report(t);
    assert.deepEqual(tally.counts, tally.zeroes);
  });
});

/**
 * A client's push: blobs, then the manifest. A 503 (the collector holds a digest) is retried after `Retry-After`; a
 * MANIFEST_BLOB_UNKNOWN (a grant revoked as orphaned before the manifest landed) re-uploads. True once stored.
 */
async function pushWithRetries(
  srv: RunningServer,
  ns: string,
  tag: string,
  blobs: Content[],
  manifest: Manifest,
  counts: { reclamation503: number; blobUnknownRetries: number },
  tally: Tally<(typeof KINDS)[number]>,
): Promise<boolean> {
  for (let attempt = 0; attempt < 10; attempt++) {
    let blobsOk = true;
    for (const blob of blobs) {
      const answer = await send(srv.url, 'POST', `/v2/${ns}/blobs/uploads/?digest=${blob.digest}`, { body: blob.bytes });
      if (answer.status === 503) {
        counts.reclamation503++;
        blobsOk = false;
        break;
      }
      if (answer.status !== 201) {
        tally.flag('unexpected answer', `blob upload ${answer.status} ${answer.body.toString('utf8').slice(0, 120)}`);
        return false;
      }
    }
    if (!blobsOk) {
      await sleep(1000);
      continue;
    }
    const answer: HttpResponse = await send(srv.url, 'PUT', `/v2/${ns}/manifests/${tag}`, { body: manifest.bytes, headers: { 'content-type': manifest.mediaType } });
    if (answer.status === 201) return true;
    const body = answer.body.toString('utf8');
    if (answer.status === 503 && body.includes('RECLAMATION_IN_PROGRESS')) {
      counts.reclamation503++;
      await sleep(1000);
    } else if (answer.status === 404 && body.includes('MANIFEST_BLOB_UNKNOWN')) {
      counts.blobUnknownRetries++;
    } else {
      tally.flag('unexpected answer', `manifest push ${answer.status} ${body.slice(0, 120)}`);
      return false;
    }
  }
  tally.flag('unexpected answer', 'push still refused after 10 attempts');
  return false;
}
