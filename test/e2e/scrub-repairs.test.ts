// The namespace repairs of `angos scrub` end to end (docs/operations.md, "scrub checks"): images pushed over HTTP to
// a real server, storage damaged out of band through the store itself, then the real command as a child process.
// Each flag's dry run leaves both stores byte-identical and logs what it would do; a scrub whose grace covers the
// damage changes nothing; the real runs repair it, and the server then answers as if the damage never happened.
// One describe per backend, with `gc_grace_secs = 1` for server and scrub alike.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { parse } from 'smol-toml';
import type { TomlTableValue } from '../../src/config/table-reader.ts';
import { validateConfig } from '../../src/config/validate.ts';
import type { Digest } from '../../src/oci/digest.ts';
import type { Namespace } from '../../src/oci/name.ts';
import { blobKeys, ordOf, refKeys, referrerKeys, revisionKeys, tagKeys } from '../../src/registry/keys.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { openFsStore, openS3Store } from '../../src/storage/open-store.ts';
import { inTempDir, runCli, type CliResult } from '../cli/cli-process.ts';
import { registryToml } from '../support/config.ts';
import { expectStatus, header } from '../support/expect.ts';
import { jsonBody, request } from '../support/http.ts';
import { content, descriptorOf, imageIndex, imageManifest, manifestDescriptor, OCI_CONFIG, OCI_INDEX, OCI_LAYER, type Manifest } from '../support/oci.ts';
import { deleteManifest, getBlob, getManifest, pushBlob, pushManifest } from '../support/registry.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { INLINE_BODIES, openBackend, PASS_BACKEND, type StorageBackend } from '../support/storage-backends.ts';

const PLACE = 'repairs';
const GLOBAL = { ...INLINE_BODIES, gc_grace_secs: 1, gc_interval_secs: 0 };
const FLAGS = ['-t', '-m', '-l', '--reconcile-blob-index', '-M', '-R'] as const;
type Flag = (typeof FLAGS)[number];
const at = (ns: string) => ns as Namespace;
const d = (digest: string) => digest as Digest;
const firstLayer = (manifest: Manifest) => d((manifest.json.layers as Array<{ digest: string }>)[0]!.digest);

/** An image whose config and layer are uploaded to `ns` first, so the namespace reads them. */
async function pushImage(url: string, ns: string, reference: string | undefined, label: string, extra: Parameters<typeof imageManifest>[0] = {}): Promise<Manifest> {
  const config = content(JSON.stringify({ label, os: 'linux' }));
  const layer = content(`layer of ${label} ${Math.random()}`);
  await pushBlob(url, ns, config);
  await pushBlob(url, ns, layer);
  const manifest = imageManifest({ config: descriptorOf(config, OCI_CONFIG), layers: [descriptorOf(layer, OCI_LAYER)], ...extra });
  await pushManifest(url, ns, reference ?? manifest.digest, manifest);
  return manifest;
}

for (const backendName of [PASS_BACKEND]) {
  describe(`scrub repairs on ${backendName}`, { concurrency: 1 }, () => {
    let backend: StorageBackend;
    let server: RunningServer;
    let store: ObjectStore;
    let closeStore = () => {};
    const configToml = (graceSecs: number) => `[server]\nbind_address = "127.0.0.1"\nport = 0\n${backend.storageToml(PLACE)}\n[global]\ngc_grace_secs = ${graceSecs}\n`;
    const scrub = async (args: string[], graceSecs = 1): Promise<CliResult> => {
      let result: CliResult | undefined;
      await inTempDir({}, async (cwd) => {
        await writeFile(join(cwd, 'config.toml'), configToml(graceSecs));
        result = await runCli(['-c', 'config.toml', 'scrub', ...args], { cwd });
      });
      assert.equal(result!.code, 0, `${args.join(' ')}: ${result!.stderr}${result!.stdout}`);
      assert.ok(!result!.logs.some((log) => log.level === 'ERROR'), result!.stdout);
      return result!;
    };
    const messages = (result: CliResult) => result.logs.map((log) => String(log.fields.message));
    /** Every key of the place with a hash of its content. */
    const snapshot = async (): Promise<Map<string, string>> => {
      const found = new Map<string, string>();
      let startAfter: string | undefined;
      do {
        const page = await store.list('', startAfter === undefined ? {} : { startAfter });
        const bodies = await Promise.all(page.keys.map((key) => store.get(key)));
        page.keys.forEach((key, i) => found.set(key, createHash('sha256').update(bodies[i]!).digest('hex')));
        startAfter = page.next;
      } while (startAfter !== undefined);
      return found;
    };
    const has = (key: string) => store.head(key).then(() => true, () => false);

    // The damage, one namespace per scenario.
    let gone: Manifest; // t/gone:gone, manifest bytes deleted
    let unrecorded: Manifest; // t/norecord:live, revision record deleted
    const badTagKey = { key: '' };
    let subjectOfKeys: Manifest; // m/keys: `rev` key and the referrer record deleted
    let signatureOfKeys: Manifest;
    let bodiless: Manifest; // l/links, untagged, manifest bytes deleted
    let deletedImage: Manifest; // l/links, deleted through the API: its back-links are phantoms
    let indexed: Manifest; // x/index, a back-link deleted; references a blob only x/other holds
    let foreign: ReturnType<typeof content>;
    let untyped: Manifest; // m/types, an index without `mediaType`, its record stripped of one
    let refSubject: Manifest; // r/refs: a referrer whose revision record was deleted, and a live one
    let deadReferrer: Manifest;
    let liveReferrer: Manifest;

    before(async () => {
      backend = await openBackend(backendName, { linkCacheTtl: 0 });
      server = await startServer({ rootDir: backend.rootDir(PLACE), storageToml: backend.storageToml(PLACE), extraToml: registryToml({ global: GLOBAL }) });
      const config = validateConfig(parse(configToml(1), { integersAsBigInt: true }) as TomlTableValue);
      if (config.blobStore.kind === 'fs') store = openFsStore(config.blobStore.rootDir, false);
      else {
        const s3 = await openS3Store(config.blobStore.settings);
        store = s3;
        closeStore = () => s3.destroy();
      }
      const url = server.url;

      gone = await pushImage(url, 't/gone', 'gone', 'gone');
      await store.delete(blobKeys.data(d(gone.digest)));
      unrecorded = await pushImage(url, 't/norecord', 'live', 'unrecorded');
      await store.delete(revisionKeys.revision(at('t/norecord'), d(unrecorded.digest)));
      const valid = await pushImage(url, 't/badtag', 'v1', 'bad tag');
      badTagKey.key = `${tagKeys.namespace(at('t/badtag'))}/-bad!${ordOf(Date.now())}.set.${valid.digest.replace(':', '.')}`;
      await store.put(badTagKey.key, '{}');

      subjectOfKeys = await pushImage(url, 'm/keys', 'v1', 'keys subject');
      signatureOfKeys = await pushImage(url, 'm/keys', undefined, 'keys signature', { subject: manifestDescriptor(subjectOfKeys), artifactType: 'application/vnd.test.sig' });
      await store.delete(refKeys.key(d(subjectOfKeys.digest), at('m/keys'), { kind: 'rev' }));
      await store.delete(referrerKeys.record(at('m/keys'), d(subjectOfKeys.digest), d(signatureOfKeys.digest)));

      bodiless = await pushImage(url, 'l/links', undefined, 'bodiless');
      await store.delete(blobKeys.data(d(bodiless.digest)));
      deletedImage = await pushImage(url, 'l/links', undefined, 'deleted');
      expectStatus(await deleteManifest(url, 'l/links', deletedImage.digest), 202);

      foreign = content(`foreign ${Math.random()}`);
      await pushBlob(url, 'x/other', foreign);
      const config_ = content(JSON.stringify({ label: 'indexed' }));
      const layer = content(`indexed layer ${Math.random()}`);
      await pushBlob(url, 'x/index', config_);
      await pushBlob(url, 'x/index', layer);
      indexed = imageManifest({ config: descriptorOf(config_, OCI_CONFIG), layers: [descriptorOf(layer, OCI_LAYER), descriptorOf(foreign, OCI_LAYER)] });
      await pushManifest(url, 'x/index', 'v1', indexed);
      await store.delete(refKeys.key(d(layer.digest), at('x/index'), { kind: 'manifest', manifest: d(indexed.digest) }));

      const child = await pushImage(url, 'm/types', undefined, 'child');
      const index = imageIndex({ manifests: [manifestDescriptor(child)] });
      delete index.json.mediaType;
      untyped = { ...content(JSON.stringify(index.json)), mediaType: OCI_INDEX, json: index.json };
      await pushManifest(url, 'm/types', 'idx', untyped);
      const recordKey = revisionKeys.revision(at('m/types'), d(untyped.digest));
      const record = JSON.parse((await store.get(recordKey)).toString()) as Record<string, unknown>;
      delete record.media_type;
      await store.put(recordKey, JSON.stringify(record));

      refSubject = await pushImage(url, 'r/refs', 'v1', 'refs subject');
      deadReferrer = await pushImage(url, 'r/refs', undefined, 'dead referrer', { subject: manifestDescriptor(refSubject) });
      liveReferrer = await pushImage(url, 'r/refs', undefined, 'live referrer', { subject: manifestDescriptor(refSubject) });
      await store.delete(revisionKeys.revision(at('r/refs'), d(deadReferrer.digest)));
      // Everything above is now older than the one-second grace.
      await sleep(1500);
    });
    after(async () => {
      await server?.stop();
      closeStore();
      await backend?.close();
    });

    /** What each flag's dry run must announce (kind and subject), from the damage above. */
    const expectedPreviews = (): Record<Flag, string[]> => ({
      '-t': [
        `delete revision 't/gone@${gone.digest}' (manifest bytes missing; tags gone)`,
        `recreate revision record 't/norecord@${unrecorded.digest}'`,
        `delete invalid tag 't/badtag:-bad'`,
      ],
      '-m': [`restore reference key '${refKeys.key(d(subjectOfKeys.digest), at('m/keys'), { kind: 'rev' })}'`, `restore referrer record 'm/keys@${subjectOfKeys.digest}' referrer '${signatureOfKeys.digest}'`],
      '-l': [`delete revision 'l/links@${bodiless.digest}' (manifest bytes missing)`, `delete phantom back-link '${refKeys.key(firstLayer(deletedImage), at('l/links'), { kind: 'manifest', manifest: d(deletedImage.digest) })}'`],
      '--reconcile-blob-index': [`restore reference key '${refKeys.key(firstLayer(indexed), at('x/index'), { kind: 'manifest', manifest: d(indexed.digest) })}'`],
      '-M': [`backfill media type of revision 'm/types@${untyped.digest}' (${OCI_INDEX})`],
      '-R': [`delete referrer record 'r/refs@${refSubject.digest}' referrer '${deadReferrer.digest}' (referrer revision gone)`],
    });

    for (const flag of FLAGS) {
      it(`${flag} -d leaves both stores byte-identical and logs what it would do`, async () => {
        const before = await snapshot();
        const result = await scrub(['-d', flag]);
        assert.deepEqual(await snapshot(), before);
        for (const preview of expectedPreviews()[flag]) {
          assert.ok(messages(result).some((message) => message.startsWith(`DRY RUN: would ${preview}`)), `${preview}\n${messages(result).join('\n')}`);
        }
      });
    }

    it('with the damage inside grace, no flag changes anything', async () => {
      const before = await snapshot();
      const result = await scrub([...FLAGS], 3600);
      assert.deepEqual(await snapshot(), before);
      assert.ok(messages(result).some((message) => /applied no actions/.test(message)), messages(result).join('\n'));
    });

    it('-t: a tag whose bytes vanished becomes absent and its revision goes; a vanished record comes back; a bad tag name goes (scenario 20)', async () => {
      assert.equal((await getManifest(server.url, 't/norecord', 'live')).status, 404, 'before: the tag reads as absent');
      await scrub(['-t']);
      assert.equal((await getManifest(server.url, 't/gone', 'gone')).status, 404);
      assert.equal(await has(revisionKeys.revision(at('t/gone'), d(gone.digest))), false);
      const back = await getManifest(server.url, 't/norecord', 'live');
      expectStatus(back, 200);
      assert.deepEqual(back.body, unrecorded.bytes);
      assert.equal(header(back, 'content-type'), unrecorded.mediaType);
      assert.equal(await has(badTagKey.key), false);
      expectStatus(await getManifest(server.url, 't/badtag', 'v1'), 200);
    });

    it('-m: the rev key and the referrer record come back, and the referrers API lists it again', async () => {
      const listed = async () => (jsonBody(await request(server.url, `/v2/m/keys/referrers/${subjectOfKeys.digest}`)) as { manifests: Array<{ digest: string }> }).manifests.map((m) => m.digest);
      assert.deepEqual(await listed(), []);
      await scrub(['-m']);
      assert.deepEqual(await listed(), [signatureOfKeys.digest]);
      assert.equal(await has(refKeys.key(d(subjectOfKeys.digest), at('m/keys'), { kind: 'rev' })), true);
    });

    it('--reconcile-blob-index: restores a deleted per-manifest key while the grant remains, grants nothing never held (scenario 22)', async () => {
      const layer = firstLayer(indexed);
      await scrub(['--reconcile-blob-index']);
      assert.equal(await has(refKeys.key(layer, at('x/index'), { kind: 'manifest', manifest: d(indexed.digest) })), true);
      assert.equal(await has(refKeys.key(layer, at('x/index'), { kind: 'own' })), true);
      assert.equal(await has(refKeys.key(d(foreign.digest), at('x/index'), { kind: 'manifest', manifest: d(indexed.digest) })), false);
      assert.equal((await getBlob(server.url, 'x/index', foreign.digest)).status, 404);
    });

    it('-l: a revision with a missing body goes, and so do phantom back-links (scenario 21)', async () => {
      const layer = firstLayer(deletedImage);
      const phantom = refKeys.key(layer, at('l/links'), { kind: 'manifest', manifest: d(deletedImage.digest) });
      assert.equal(await has(phantom), true);
      await scrub(['-l']);
      assert.equal(await has(revisionKeys.revision(at('l/links'), d(bodiless.digest))), false);
      assert.equal((await getManifest(server.url, 'l/links', bodiless.digest)).status, 404);
      assert.equal(await has(phantom), false);
      assert.equal(await has(refKeys.key(layer, at('l/links'), { kind: 'own' })), true, 'grants stay');
    });

    it('-M: a missing media type is backfilled, shape-implied when the body declares none (scenario 21)', async () => {
      await scrub(['-M']);
      const record = JSON.parse((await store.get(revisionKeys.revision(at('m/types'), d(untyped.digest)))).toString()) as Record<string, unknown>;
      assert.equal(record.media_type, OCI_INDEX);
      const served = await getManifest(server.url, 'm/types', 'idx', 'HEAD');
      expectStatus(served, 200);
      assert.equal(header(served, 'content-type'), OCI_INDEX);
    });

    it('-R: the record of a deleted referrer goes and the referrers API stops listing it (scenario 21)', async () => {
      const listed = async () => (jsonBody(await request(server.url, `/v2/r/refs/referrers/${refSubject.digest}`)) as { manifests: Array<{ digest: string }> }).manifests.map((m) => m.digest).sort();
      assert.deepEqual(await listed(), [deadReferrer.digest, liveReferrer.digest].sort());
      await scrub(['-R']);
      assert.deepEqual(await listed(), [liveReferrer.digest]);
      assert.equal(await has(refKeys.key(d(deadReferrer.digest), at('r/refs'), { kind: 'sub', subject: d(refSubject.digest) })), false);
    });

    it('afterwards every flag finds nothing left to do', async () => {
      const before = await snapshot();
      const result = await scrub([...FLAGS]);
      assert.deepEqual(await snapshot(), before);
      assert.ok(messages(result).some((message) => /applied no actions/.test(message)), messages(result).join('\n'));
    });
  });
}
