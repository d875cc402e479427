// `scrub --orphan-namespaces` against a live server's storage (docs/operations.md, "scrub checks"): nothing without a
// configured repository; with one, a namespace it does not own loses revisions, tags and uploads, leaves the catalog,
// and its bytes go where no owned namespace holds them. And the pull-history collection of `scrub -t` / `-m`
// (docs/storage.md, "Pull history"). Runs on the pass's backend (filesystem, or S3 on the test gateway).
// What the catalog shows before and after a namespace's content is deleted is test/e2e/listings.test.ts, "catalog".
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { parseDigest, type Digest } from '../../src/oci/digest.ts';
import { parseNamespace } from '../../src/oci/name.ts';
import { parseTag } from '../../src/oci/tag.ts';
import { exists, listAll } from '../../src/registry/json-record.ts';
import { accessKeys, blobKeys, gcKeys } from '../../src/registry/keys.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { runCli, type CliResult } from '../cli/cli-process.ts';
import { registryToml, type TomlValue } from '../support/config.ts';
import { expectError, expectStatus } from '../support/expect.ts';
import { jsonBody, request, send } from '../support/http.ts';
import { content, imageManifest, uniqueBlob, type Content } from '../support/oci.ts';
import { getBlob, pushImage, pushManifest, startUpload } from '../support/registry.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { INLINE_BODIES, openBackend, PASS_BACKEND, storeSnapshot, type StorageBackend } from '../support/storage-backends.ts';
import { basicAuth, identityToml } from './auth-fixtures.ts';

const GRACE_SECS = 2;
const PAST_GRACE_MS = GRACE_SECS * 1000 + 600;
const ALICE = basicAuth('alice', 'alice-pw');

/** An image of one config and the given layers, pushed to `ns` under `tag`. */
const digestOf = (item: Content) => parseDigest(item.digest);
const messages = (result: CliResult) => result.logs.map((log) => String(log.fields.message));
const catalog = async (srv: RunningServer) => (jsonBody(await request(srv.url, '/v2/_catalog')) as { repositories: string[] }).repositories;

describe(`scrub --orphan-namespaces and pull-history collection (${PASS_BACKEND})`, () => {
  let backend: StorageBackend;
  before(async () => {
    // S3: pulls read the gateway (no link cache), so the server sees scrub's deletes at once (docs/storage.md, "S3 link cache").
    backend = await openBackend(PASS_BACKEND, { linkCacheTtl: 0 });
  });
  const stops: Array<() => Promise<unknown>> = [];
  after(async () => {
    await Promise.all(stops.map((stop) => stop()));
    await backend?.close();
  });

  /** A server on a fresh place with the background collector off, its store, and scrub over its configuration file. */
  async function place(globalKeys: Record<string, TomlValue> = {}, extra = ''): Promise<{ srv: RunningServer; store: ObjectStore; scrub: (...args: string[]) => Promise<CliResult> }> {
    const name = `ns-${randomUUID().slice(0, 8)}`;
    const srv = await startServer({
      rootDir: backend.rootDir(name),
      storageToml: backend.storageToml(name),
      extraToml: registryToml({ global: { ...INLINE_BODIES, gc_grace_secs: GRACE_SECS, gc_interval_secs: 0, ...globalKeys } }) + extra,
    });
    stops.push(() => srv.stop());
    const scrub = (...args: string[]) => runCli(['-c', srv.configPath, 'scrub', ...args], { cwd: backend.rootDir(name).replace(/[^/]+$/, ''), rustLog: 'info' });
    return { srv, store: backend.store(name), scrub };
  }

  it('-n: no repository ⇒ warns and deletes nothing; with `team` configured old/app is emptied, bytes only it held go, -b takes its manifests', async () => {
    const { srv, store, scrub } = await place();
    const hasBytes = (digest: Digest) => exists(store, blobKeys.data(digest));
    const shared = content(Buffer.from(`shared layer ${randomUUID()}`));
    const own = uniqueBlob('old/app only');
    const old = await pushImage(srv.url, 'old/app', 'v1', [own, shared]);
    const team = await pushImage(srv.url, 'team/app', 'v1', [shared]);
    const session = await startUpload(srv.url, 'old/app');
    await sleep(PAST_GRACE_MS);

    const untouched = await storeSnapshot(store);
    const unconfigured = await scrub('-n');
    assert.equal(unconfigured.code, 0, unconfigured.stderr);
    assert.ok(unconfigured.logs.some((log) => log.level === 'WARN' && /no repository is configured/.test(String(log.fields.message))), unconfigured.stdout);
    assert.deepEqual(await storeSnapshot(store), untouched, 'no repository: nothing deleted');

    // The scrub reads the server's configuration file (the server reloads it too).
    await appendFile(srv.configPath, '\n[repository."team"]\n');
    const preview = await scrub('-n', '-d');
    assert.equal(preview.code, 0, preview.stderr);
    assert.deepEqual(await storeSnapshot(store), untouched, 'a dry run changes nothing');
    const previewed = messages(preview).filter((m) => m.startsWith('DRY RUN: would '));
    assert.ok(previewed.includes(`DRY RUN: would delete revision 'old/app@${old.manifest.digest}' (orphan namespace)`), previewed.join('\n'));
    assert.ok(previewed.includes(`DRY RUN: would delete upload 'old/app/${session.id}' (orphan namespace)`), previewed.join('\n'));
    assert.ok(!previewed.some((m) => m.includes('team/app')), 'nothing of the owned namespace');

    const real = await scrub('-n');
    assert.equal(real.code, 0, real.stderr);
    const done = messages(real);
    assert.ok(done.includes(`delete revision 'old/app@${old.manifest.digest}' (orphan namespace)`), real.stdout);
    expectError(await request(srv.url, '/v2/old/app/manifests/v1'), 404, 'MANIFEST_UNKNOWN');
    expectError(await request(srv.url, `/v2/old/app/manifests/${old.manifest.digest}`), 404, 'MANIFEST_UNKNOWN');
    expectError(await request(srv.url, '/v2/old/app/tags/list'), 404, 'NAME_UNKNOWN');
    expectStatus(await request(srv.url, session.location), 404);
    assert.deepEqual(await catalog(srv), ['team/app']);
    for (const gone of [own, old.config]) {
      assert.equal(await hasBytes(digestOf(gone)), false, `${gone.digest}, held by old/app only, is reclaimed`);
      expectStatus(await getBlob(srv.url, 'old/app', gone.digest), 404);
    }
    expectStatus(await getBlob(srv.url, 'old/app', shared.digest), 404);
    const pulled = await getBlob(srv.url, 'team/app', shared.digest);
    expectStatus(pulled, 200);
    assert.deepEqual(pulled.body, shared.bytes, 'the shared layer stays pullable from team/app');
    assert.ok(await hasBytes(digestOf(old.manifest)), 'manifest bytes carry no grant: -n alone keeps them');
    assert.deepEqual(await listAll(store, gcKeys.root), [], 'no run marker is left');

    const withBlobs = await scrub('-n', '-b');
    assert.equal(withBlobs.code, 0, withBlobs.stderr);
    assert.equal(await hasBytes(digestOf(old.manifest)), false, '-b reclaims the manifest bytes');
    const teamImage = await request(srv.url, '/v2/team/app/manifests/v1');
    expectStatus(teamImage, 200);
    assert.deepEqual(teamImage.body, team.manifest.bytes);
    for (const blob of [shared, team.config]) expectStatus(await getBlob(srv.url, 'team/app', blob.digest), 200);
  });

  it('-t and -m keep each target\'s newest pull and drop superseded ones once past atime_audit_window_secs', async () => {
    const WINDOW_SECS = 6;
    const { srv, store, scrub } = await place({ update_pull_time: true, atime_audit_window_secs: WINDOW_SECS }, await identityToml('alice-id', 'alice', 'alice-pw'));
    const ns = parseNamespace('pulls/app')!;
    const image = imageManifest();
    await pushManifest(srv.url, ns, 'latest', image);
    const tagEntries = `${accessKeys.target(ns, { kind: 'tag', tag: parseTag('latest')! })}/`;
    const revisionEntries = `${accessKeys.target(ns, { kind: 'revision', digest: parseDigest(image.digest) })}/`;
    const clients = async (prefix: string) => {
      const found: string[] = [];
      for (const key of await listAll(store, prefix)) found.push((JSON.parse((await store.get(key)).toString('utf8')) as { client: string }).client);
      return found;
    };

    // alice first, then an anonymous client: by tag and by digest, two entries each, the anonymous one newest.
    const firstPull = Date.now();
    for (const reference of ['latest', image.digest]) {
      expectStatus(await send(srv.url, 'GET', `/v2/${ns}/manifests/${reference}`, { headers: { authorization: ALICE } }), 200);
      await sleep(5);
      expectStatus(await send(srv.url, 'GET', `/v2/${ns}/manifests/${reference}`), 200);
    }
    for (let attempt = 0; attempt < 100 && (await listAll(store, accessKeys.namespace(ns))).length < 4; attempt++) await sleep(100);
    assert.deepEqual(await clients(tagEntries), ['anonymous', 'alice']);
    assert.deepEqual(await clients(revisionEntries), ['anonymous', 'alice']);

    const inWindow = await scrub('-t', '-m');
    assert.equal(inWindow.code, 0, inWindow.stderr);
    assert.equal(await clients(tagEntries).then((found) => found.length), 2, 'inside the audit window both entries stay');
    assert.equal(await clients(revisionEntries).then((found) => found.length), 2);

    await sleep(Math.max(0, firstPull + WINDOW_SECS * 1000 + 500 - Date.now()));
    const tags = await scrub('-t');
    assert.equal(tags.code, 0, tags.stderr);
    assert.ok(messages(tags).some((m) => m.startsWith(`delete superseded pull record '${ns}:latest'`)), tags.stdout);
    assert.deepEqual(await clients(tagEntries), ['anonymous'], '-t keeps the newest tag pull');
    assert.deepEqual(await clients(revisionEntries), ['anonymous', 'alice'], '-t leaves by-digest pulls alone');

    const lastPulled = async () =>
      (jsonBody(await request(srv.url, `/v2/${ns}/_angos/revisions/list`)) as { manifests: Array<{ last_pulled_at?: string }> }).manifests[0]?.last_pulled_at;
    const newest = await lastPulled();
    assert.ok(newest !== undefined);
    const manifests = await scrub('-m');
    assert.equal(manifests.code, 0, manifests.stderr);
    assert.ok(messages(manifests).some((m) => m.startsWith(`delete superseded pull record '${ns}@${image.digest}'`)), manifests.stdout);
    assert.deepEqual(await clients(revisionEntries), ['anonymous'], '-m keeps the newest by-digest pull');
    assert.equal(await lastPulled(), newest, 'last_pulled_at still comes from the newest entry');
  });
});
