// `angos scrub --retention` end to end (docs/operations.md, "Retention policies"), on both backends: images pushed
// over HTTP to a real server, then the real command as a child process on the same storage, with its own
// configuration carrying the rules.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { parse } from 'smol-toml';
import type { TomlTableValue } from '../../src/config/table-reader.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { accessKeys } from '../../src/registry/keys.ts';
import type { Namespace } from '../../src/oci/name.ts';
import type { Tag } from '../../src/oci/tag.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { openFsStore, openS3Store } from '../../src/storage/open-store.ts';
import { runCli, type CliResult } from '../cli/cli-process.ts';
import { registryToml, type TomlValue } from '../support/config.ts';
import { expectStatus } from '../support/expect.ts';
import { jsonBody, send } from '../support/http.ts';
import { imageIndex, imageManifest, manifestDescriptor, type Manifest } from '../support/oci.ts';
import { getManifest, pushManifest } from '../support/registry.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { INLINE_BODIES, openBackend, PASS_BACKEND, type StorageBackend } from '../support/storage-backends.ts';

const DAY = 86_400_000;
/** Every scrub here runs with this grace, and waits it out before running: young untagged revisions wait a pass. */
const GRACE_SECS = 1;

/** A server on its own storage place, and `angos scrub` on the same storage with a configuration of the test's. */
interface Site {
  readonly server: RunningServer;
  readonly url: string;
  /** Runs `angos scrub <args>` with `[global]` keys and extra tables (the retention rules) on this site's storage. */
  scrub(args: string[], global?: Record<string, TomlValue>, tables?: string): Promise<CliResult>;
  /** Every key of the storage with a hash of its content. */
  snapshot(): Promise<Map<string, string>>;
  close(): Promise<void>;
}

async function openSite(backend: StorageBackend, place: string, global: Record<string, TomlValue> = {}): Promise<Site> {
  const storageToml = backend.storageToml(place);
  // The server's own collector stays off: only the scrub under test changes storage.
  const server = await startServer({ storageToml, rootDir: backend.rootDir(place), extraToml: registryToml({ global: { ...INLINE_BODIES, gc_interval_secs: 0, ...global } }) });
  const configText = (extra: string) => `[server]\nbind_address = "127.0.0.1"\nport = 0\n${storageToml}\n${extra}`;
  const config = validateConfig(parse(configText(''), { integersAsBigInt: true }) as TomlTableValue);
  const store: ObjectStore & { destroy?: () => void } =
    config.blobStore.kind === 'fs' ? openFsStore(config.blobStore.rootDir, false) : await openS3Store(config.blobStore.settings);
  return {
    server,
    url: server.url,
    async scrub(args, scrubGlobal = {}, tables = '') {
      const dir = await mkdtemp(join(tmpdir(), 'angos-retention-'));
      try {
        const keys = Object.entries({ gc_grace_secs: GRACE_SECS, ...scrubGlobal }).map(([key, value]) => `${key} = ${JSON.stringify(value)}`);
        await writeFile(join(dir, 'config.toml'), configText(`[global]\n${keys.join('\n')}\n${tables}`));
        return await runCli(['-c', 'config.toml', 'scrub', ...args], { cwd: dir });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    async snapshot() {
      const found = new Map<string, string>();
      let startAfter: string | undefined;
      do {
        const page = await store.list('', startAfter === undefined ? {} : { startAfter });
        for (const key of page.keys) found.set(key, createHash('sha256').update(await store.get(key)).digest('hex'));
        startAfter = page.next;
      } while (startAfter !== undefined);
      return found;
    },
    async close() {
      store.destroy?.();
      await server.stop();
    },
  };
}

/** `[global.retention_policy]` (or a repository's) with these rules, as TOML literal strings. */
function policy(table: string, rules: readonly string[]): string {
  return `[${table}.retention_policy]\nrules = [${rules.map((rule) => `'${rule}'`).join(', ')}]\n`;
}

function messages(result: CliResult): string[] {
  return result.logs.map((log) => String(log.fields.message));
}

async function tagsOf(url: string, ns: string): Promise<string[]> {
  const response = await send(url, 'GET', `/v2/${ns}/tags/list`);
  if (response.status === 404) return [];
  expectStatus(response, 200);
  return ((jsonBody(response) as { tags: string[] | null }).tags ?? []).sort();
}

async function resolves(url: string, ns: string, reference: string): Promise<boolean> {
  const response = await getManifest(url, ns, reference, 'HEAD');
  assert.ok(response.status === 200 || response.status === 404, `HEAD ${ns}@${reference}: ${response.status}`);
  return response.status === 200;
}

/** A push authored `ageMs` ago (a replicated write's source timestamp sets the author time). */
function pushAged(url: string, ns: string, reference: string, manifest: Manifest, ageMs: number): Promise<unknown> {
  return send(url, 'PUT', `/v2/${ns}/manifests/${reference}`, {
    headers: { 'content-type': manifest.mediaType, 'x-angos-source-timestamp': new Date(Date.now() - ageMs).toISOString() },
    body: manifest.bytes,
  }).then((response) => expectStatus(response, 201));
}

for (const backendName of [PASS_BACKEND]) {
  describe(`scrub --retention (${backendName})`, () => {
    let backend: StorageBackend;
    before(async () => {
      // The server reads what scrub (another process) deleted: on S3 without the link cache, which may otherwise
      // answer from before the deletes for up to its TTL (docs/storage.md, "S3 link cache").
      backend = await openBackend(backendName, { linkCacheTtl: 0 });
    });
    after(async () => {
      await backend?.close();
    });

    it('scenario 23: only `latest` is kept; other tags and their revisions go in one run; an index child and a referred-to manifest stay; -d previews exactly that', async () => {
      const site = await openSite(backend, 'scenario-23');
      try {
        const ns = 'team/app';
        const [amd64, arm64] = [imageManifest(), imageManifest()];
        await pushManifest(site.url, ns, amd64.digest, amd64);
        await pushManifest(site.url, ns, arm64.digest, arm64);
        const latest = imageIndex({ manifests: [manifestDescriptor(amd64), manifestDescriptor(arm64)] });
        await pushManifest(site.url, ns, 'latest', latest);
        const [v1, v2] = [imageManifest(), imageManifest()];
        await pushManifest(site.url, ns, 'v1', v1);
        await pushManifest(site.url, ns, 'v2', v2);
        const subject = imageManifest();
        await pushManifest(site.url, ns, 'signed', subject);
        const signature = imageManifest({ subject: manifestDescriptor(subject), artifactType: 'application/vnd.test.sig' });
        await pushManifest(site.url, ns, signature.digest, signature);
        await sleep(GRACE_SECS * 1000 + 100);
        const rules = policy('global', ['image.tag == "latest"']);

        const before = await site.snapshot();
        const dry = await site.scrub(['-r', '-d'], {}, rules);
        assert.equal(dry.code, 0, dry.stderr);
        assert.deepEqual(await site.snapshot(), before, 'the dry run changed nothing in storage');
        const previewed = messages(dry).filter((m) => m.startsWith('DRY RUN: would ')).map((m) => m.slice('DRY RUN: would '.length));

        const real = await site.scrub(['-r'], {}, rules);
        assert.equal(real.code, 0, real.stderr);
        const done = messages(real).filter((m) => m.startsWith('delete '));
        assert.deepEqual(previewed, done, 'the dry run listed exactly what the real run deleted');
        assert.deepEqual(
          done.sort(),
          [
            `delete tag '${ns}:signed' (policy)`,
            `delete tag '${ns}:v1' (policy)`,
            `delete tag '${ns}:v2' (policy)`,
            `delete revision '${ns}@${v1.digest}' (policy)`,
            `delete revision '${ns}@${v2.digest}' (policy)`,
            // The signature's subject is not kept (its tag went), so the signature is an ordinary untagged candidate.
            `delete revision '${ns}@${signature.digest}' (policy)`,
          ].sort(),
        );

        assert.deepEqual(await tagsOf(site.url, ns), ['latest']);
        assert.equal(await resolves(site.url, ns, v1.digest), false);
        assert.equal(await resolves(site.url, ns, v2.digest), false);
        for (const kept of [latest, amd64, arm64]) assert.equal(await resolves(site.url, ns, kept.digest), true, 'the kept index and its children');
        assert.equal(await resolves(site.url, ns, subject.digest), true, 'the referred-to manifest is protected');
      } finally {
        await site.close();
      }
    });

    it('scenario 24: no rules delete nothing; a non-boolean rule keeps all and warns; a pull-time rule without update_pull_time exits 1 and changes nothing', async () => {
      const site = await openSite(backend, 'scenario-24');
      try {
        const ns = 'team/app';
        await pushAged(site.url, ns, 'old', imageManifest(), 300 * DAY);
        const loose = imageManifest();
        await pushAged(site.url, ns, loose.digest, loose, 300 * DAY);
        await sleep(GRACE_SECS * 1000 + 100);
        const before = await site.snapshot();

        const none = await site.scrub(['-r']);
        assert.equal(none.code, 0, none.stderr);
        assert.deepEqual(await site.snapshot(), before, 'no rules: nothing deleted');

        const nonBoolean = await site.scrub(['-r'], {}, policy('global', ['image.pushed_at']));
        assert.equal(nonBoolean.code, 0, nonBoolean.stderr);
        assert.deepEqual(await site.snapshot(), before, 'a non-boolean rule keeps everything');
        const warnings = nonBoolean.logs.filter((log) => log.level === 'WARN').map((log) => String(log.fields.message));
        assert.ok(warnings.some((w) => w.startsWith('retention rule 1 of [global.retention_policy] did not evaluate to a boolean')), warnings.join('\n'));

        const refused = await site.scrub(['-r'], { update_pull_time: false }, policy('global', ['image.tag == "latest"', 'image.last_pulled_at > now() - days(30)']));
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /retention rule 2 of \[global\.retention_policy\] .*uses `last_pulled_at`, but `\[global\] update_pull_time = false`/);
        assert.deepEqual(await site.snapshot(), before, 'refused: nothing changed');
        assert.deepEqual(await tagsOf(site.url, ns), ['old']);
      } finally {
        await site.close();
      }
    });

    it('scenario 25: top_pushed(2) deletes only the oldest of three tags', async () => {
      const site = await openSite(backend, 'scenario-25-pushed');
      try {
        const ns = 'team/app';
        for (const [tag, hours] of [['t1', 3], ['t2', 2], ['t3', 1]] as const) await pushAged(site.url, ns, tag, imageManifest(), hours * 3_600_000);
        const result = await site.scrub(['-r'], {}, policy('global', ['top_pushed(2)']));
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(await tagsOf(site.url, ns), ['t2', 't3']);
      } finally {
        await site.close();
      }
    });

    it('scenario 25: top_pulled(5) never keeps a never-pulled tag', async () => {
      const site = await openSite(backend, 'scenario-25-pulled', { update_pull_time: true });
      try {
        const ns = 'team/app';
        await pushManifest(site.url, ns, 'pulled', imageManifest());
        await pushManifest(site.url, ns, 'never', imageManifest());
        expectStatus(await getManifest(site.url, ns, 'pulled'), 200);
        await untilPullRecorded(site, ns, 'pulled');
        const result = await site.scrub(['-r'], { update_pull_time: true }, policy('global', ['top_pulled(5)']));
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(await tagsOf(site.url, ns), ['pulled']);
      } finally {
        await site.close();
      }
    });

    it('scenario 25: a 30-day-old image is kept by a repository`s 365-day policy and deleted under the global 7-day one', async () => {
      const site = await openSite(backend, 'scenario-25-policies');
      try {
        for (const ns of ['prod/api', 'dev/api']) await pushAged(site.url, ns, 'v1', imageManifest(), 30 * DAY);
        const tables = `${policy('global', ['image.pushed_at > now() - days(7)'])}[repository."prod"]\n${policy('repository."prod"', ['image.pushed_at > now() - days(365)'])}`;
        const result = await site.scrub(['-r'], {}, tables);
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(await tagsOf(site.url, 'prod/api'), ['v1']);
        assert.deepEqual(await tagsOf(site.url, 'dev/api'), []);
      } finally {
        await site.close();
      }
    });
  });
}

/** Pull entries are written after the response: waits until the tag's entry is in storage. */
async function untilPullRecorded(site: Site, ns: string, tag: string): Promise<void> {
  const prefix = accessKeys.target(ns as Namespace, { kind: 'tag', tag: tag as Tag });
  for (let attempt = 0; attempt < 100; attempt++) {
    if ([...(await site.snapshot()).keys()].some((key) => key.startsWith(`${prefix}/`))) return;
    await sleep(50);
  }
  assert.fail(`no pull of ${ns}:${tag} was recorded`);
}
