// Pull history (docs/storage.md, "Pull history"; docs/api.md, "Extension API"): with `update_pull_time` on, every
// served manifest GET and HEAD writes one access entry, under the tag for a pull by tag and under the revision for a
// pull by digest, after the response and without holding it; `pulls/list` and `last_pulled_at` of `revisions/list`
// show them. With it off nothing is written, and a metadata store refusing the write never fails the pull. The
// faults are real: on the filesystem the namespace's `!atime` directory is replaced by a symlink to itself (every
// path below it fails with ELOOP); on S3 the entries' PutObject requests are cut by the forwarding proxy.
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { parse } from 'smol-toml';
import { accessKeys } from '../../src/registry/keys.ts';
import { clientHash } from '../../src/registry/pull-history.ts';
import { parseDigest } from '../../src/oci/digest.ts';
import { parseNamespace } from '../../src/oci/name.ts';
import { parseTag } from '../../src/oci/tag.ts';
import { listAll } from '../../src/registry/json-record.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { openFsStore, openS3Store } from '../../src/storage/open-store.ts';
import { registryToml } from '../support/config.ts';
import { expectStatus } from '../support/expect.ts';
import { jsonBody, request, send, type HttpResponse } from '../support/http.ts';
import { imageManifest, type Manifest } from '../support/oci.ts';
import { pushManifest } from '../support/registry.ts';
import { s3Settings } from '../support/rgw-fixture.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { INLINE_BODIES, openBackend, PASS_BACKEND, type StorageBackend } from '../support/storage-backends.ts';
import { basicAuth, identityToml } from './auth-fixtures.ts';

const ALICE = basicAuth('alice', 'alice-pw');
const BOB = basicAuth('bob', 'bob-pw');
const WINDOW_SECS = 3600;
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

interface PullList {
  target: string;
  window_secs: number;
  entries: Array<{ client: string; at: string }>;
}

/** The test's own client of the servers' storage, to see exactly which keys a pull wrote (`destroy`: S3's sockets). */
async function storeOf(backend: StorageBackend, place: string): Promise<ObjectStore & { destroy?(): void }> {
  if (backend.name === 'filesystem') return openFsStore(backend.rootDir(place), false);
  const table = (parse(backend.storageToml(place)) as { blob_store: { s3: Record<string, string> } }).blob_store.s3;
  const place3 = { endpoint: table.endpoint!, bucket: table.bucket!, accessKey: table.access_key_id!, secretKey: table.secret_key! };
  return openS3Store(s3Settings(place3, { keyPrefix: table.key_prefix! }));
}

/** Every access-entry key of `ns` with the client its body names. */
async function recorded(store: ObjectStore, ns: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const key of await listAll(store, accessKeys.namespace(parseNamespace(ns)!))) {
    found.set(key, (JSON.parse((await store.get(key)).toString('utf8')) as { client: string }).client);
  }
  return found;
}

/** Entries are written after the response: polls (bounded, ~10 s) until `done` holds. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let attempt = 0; attempt < 100 && !done(value); attempt++) {
    await sleep(100);
    value = await read();
  }
  return value;
}

function pull(srv: RunningServer, ns: string, reference: string, method: 'GET' | 'HEAD', authorization?: string): Promise<HttpResponse> {
  return send(srv.url, method, `/v2/${ns}/manifests/${reference}`, { headers: authorization === undefined ? {} : { authorization } });
}

async function expectServed(response: Promise<HttpResponse>, manifest: Manifest, method: 'GET' | 'HEAD'): Promise<void> {
  const answer = await response;
  expectStatus(answer, 200);
  assert.equal(answer.headers['docker-content-digest'], manifest.digest);
  if (method === 'GET') assert.deepEqual(answer.body, manifest.bytes);
}

async function pullList(srv: RunningServer, ns: string, query: string): Promise<PullList> {
  const response = await request(srv.url, `/v2/${ns}/_angos/pulls/list?${query}`);
  expectStatus(response, 200);
  return jsonBody(response) as PullList;
}

async function revisionsOf(srv: RunningServer, ns: string): Promise<Array<Record<string, unknown>>> {
  const response = await request(srv.url, `/v2/${ns}/_angos/revisions/list`);
  expectStatus(response, 200);
  return (jsonBody(response) as { manifests: Array<Record<string, unknown>> }).manifests;
}

function warnings(srv: RunningServer): string[] {
  return srv.logs.filter((line) => line.level === 'WARN').map((line) => String((line.fields as { message?: unknown }).message));
}

describe('pull history', { concurrency: true }, () => {
  for (const backendName of [PASS_BACKEND]) {
    describe(`on ${backendName}`, { concurrency: 1 }, () => {
      let backend: StorageBackend;
      let identities: string;
      let recording: RunningServer;
      let store: ObjectStore & { destroy?(): void };
      const start = (place: string, updatePullTime: boolean) =>
        startServer({
          rootDir: backend.rootDir(place),
          storageToml: backend.storageToml(place),
          extraToml: registryToml({ global: { ...INLINE_BODIES, update_pull_time: updatePullTime, atime_audit_window_secs: WINDOW_SECS } }) + identities,
        });

      before(async () => {
        // S3: reads go to the gateway (no link cache), so the breaker sees successes between the refused writes.
        backend = await openBackend(backendName, backendName === 's3' ? { faultProxy: true, linkCacheTtl: 0 } : {});
        identities = (await identityToml('alice-id', 'alice', 'alice-pw')) + (await identityToml('bob-id', 'bob', 'bob-pw'));
        recording = await start('recording', true);
        store = await storeOf(backend, 'recording');
      });
      after(async () => {
        await recording?.stop();
        store?.destroy?.();
        await backend?.close();
      });

      it('two clients pulling by tag and by digest, GET and HEAD, write one entry each where they pulled', async () => {
        const ns = 'pulls/app';
        const image = imageManifest();
        await pushManifest(recording.url, ns, 'latest', image);
        const before = Date.now();
        // A millisecond apart at least, so newest-first order is the order of the pulls.
        const pulls: Array<[string, 'GET' | 'HEAD', string | undefined]> = [
          ['latest', 'GET', ALICE],
          ['latest', 'HEAD', undefined],
          [image.digest, 'GET', BOB],
          [image.digest, 'HEAD', ALICE],
        ];
        for (const [reference, method, who] of pulls) {
          await expectServed(pull(recording, ns, reference, method, who), image, method);
          await sleep(5);
        }

        const entries = await eventually(() => recorded(store, ns), (found) => found.size >= 4);
        const tagPrefix = `${accessKeys.target(parseNamespace(ns)!, { kind: 'tag', tag: parseTag('latest')! })}/`;
        const revisionPrefix = `${accessKeys.target(parseNamespace(ns)!, { kind: 'revision', digest: parseDigest(image.digest) })}/`;
        const under = (prefix: string) => [...entries].filter(([key]) => key.startsWith(prefix)).map(([key, client]) => [key.slice(prefix.length).split('.')[1], client]);
        assert.equal(entries.size, 4, [...entries.keys()].join('\n'));
        // Newest first: the anonymous HEAD, then alice's GET; by digest alice's HEAD, then bob's GET.
        assert.deepEqual(under(tagPrefix), [[clientHash('anonymous'), 'anonymous'], [clientHash('alice'), 'alice']]);
        assert.deepEqual(under(revisionPrefix), [[clientHash('alice'), 'alice'], [clientHash('bob'), 'bob']]);

        const byTag = await pullList(recording, ns, 'tag=latest');
        assert.equal(byTag.target, 'latest');
        assert.equal(byTag.window_secs, WINDOW_SECS);
        assert.deepEqual(byTag.entries.map((entry) => entry.client), ['anonymous', 'alice']);
        const byDigest = await pullList(recording, ns, `digest=${image.digest}`);
        assert.equal(byDigest.target, image.digest);
        assert.deepEqual(byDigest.entries.map((entry) => entry.client), ['alice', 'bob']);
        for (const entry of [...byTag.entries, ...byDigest.entries]) {
          assert.deepEqual(Object.keys(entry).sort(), ['at', 'client']);
          assert.match(entry.at, RFC3339_UTC);
          assert.ok(Date.parse(entry.at) >= before - 1 && Date.parse(entry.at) <= Date.now(), entry.at);
        }
        assert.deepEqual((await pullList(recording, ns, 'tag=never')).entries, []);

        // last_pulled_at: the newest pull, by digest or through its tag.
        const [revision] = await revisionsOf(recording, ns);
        assert.equal(revision?.digest, image.digest);
        assert.equal(revision?.last_pulled_at, byDigest.entries[0]!.at);
      });

      it('a tag pull counts for the revision the tag is on; a revision never pulled has no last_pulled_at', async () => {
        const ns = 'pulls/moved';
        const first = imageManifest();
        const second = imageManifest();
        await pushManifest(recording.url, ns, 'latest', first);
        await pushManifest(recording.url, ns, 'other', second);
        await expectServed(pull(recording, ns, 'latest', 'GET', ALICE), first, 'GET');
        const [entry] = (await eventually(() => pullList(recording, ns, 'tag=latest'), (list) => list.entries.length === 1)).entries;
        const lastPulled = async () => new Map((await revisionsOf(recording, ns)).map((revision) => [revision.digest, revision.last_pulled_at]));
        let last = await lastPulled();
        assert.equal(last.get(first.digest), entry?.at);
        assert.equal(last.has(second.digest), true);
        assert.equal(last.get(second.digest), undefined);
        await sleep(5);
        await pushManifest(recording.url, ns, 'latest', second);
        last = await lastPulled();
        assert.equal(last.get(first.digest), undefined, 'the tag no longer holds it');
        assert.equal(last.get(second.digest), undefined, 'the tag was pulled before it moved here');
      });

      it('update_pull_time = false writes nothing, and a reload turning it on records the next pull', async () => {
        const ns = 'pulls/off';
        const off = await start('off', false);
        const offStore = await storeOf(backend, 'off');
        try {
          const image = imageManifest();
          await pushManifest(off.url, ns, 'latest', image);
          for (const reference of ['latest', image.digest]) {
            for (const method of ['GET', 'HEAD'] as const) await expectServed(pull(off, ns, reference, method, ALICE), image, method);
          }
          await sleep(500);
          const keys = await listAll(offStore, 'v2');
          assert.ok(keys.length > 0, 'the push is stored');
          assert.deepEqual(keys.filter((key) => key.includes('!atime')), []);
          assert.deepEqual((await pullList(off, ns, 'tag=latest')).entries, []);
          assert.equal('last_pulled_at' in (await revisionsOf(off, ns))[0]!, false);

          const reloads = () => off.logs.filter((line) => (line.fields as { message?: unknown }).message === 'Configuration reloaded').length;
          const before = reloads();
          await writeFile(off.configPath, (await readFile(off.configPath, 'utf8')).replace('update_pull_time = false', 'update_pull_time = true'));
          assert.ok((await eventually(async () => reloads(), (count) => count > before)) > before, 'the configuration is reloaded');
          await expectServed(pull(off, ns, 'latest', 'GET', ALICE), image, 'GET');
          const entries = await eventually(() => recorded(offStore, ns), (found) => found.size > 0);
          assert.deepEqual([...entries.values()], ['alice']);
        } finally {
          await off.stop();
          offStore.destroy?.();
        }
      });

      it('a metadata store refusing the entry does not fail the pull: served, logged at warn, recorded again once it heals', async () => {
        const ns = 'pulls/fault';
        const image = imageManifest();
        await pushManifest(recording.url, ns, 'latest', image);
        const atime = accessKeys.namespace(parseNamespace(ns)!);
        let heal: () => Promise<void>;
        if (backend.name === 'filesystem') {
          const dir = join(backend.rootDir('recording'), atime);
          await mkdir(join(dir, '..'), { recursive: true });
          await symlink(dir, dir);
          heal = () => rm(dir, { force: true });
        } else {
          const stop = backend.faults!.observePuts((key) => (key.includes('!atime/') ? 'refuse' : undefined));
          heal = async () => void stop();
        }
        const warned = () => warnings(recording).filter((message) => message.startsWith('pull not recorded')).length;
        const before = warned();
        try {
          await expectServed(pull(recording, ns, 'latest', 'GET', ALICE), image, 'GET');
          assert.ok((await eventually(async () => warned(), (count) => count > before)) > before, 'the failed write is logged at warn');
          await expectServed(pull(recording, ns, image.digest, 'HEAD', BOB), image, 'HEAD');
          assert.ok((await eventually(async () => warned(), (count) => count > before + 1)) > before + 1);
        } finally {
          await heal();
        }
        await expectServed(pull(recording, ns, 'latest', 'GET', BOB), image, 'GET');
        const entries = await eventually(() => recorded(store, ns), (found) => found.size > 0);
        assert.deepEqual([...entries.values()], ['bob'], 'only the pull after the fault is recorded');
      });
    });
  }
});
