// A hostile client's campaign against one real server on filesystem storage: a few thousand requests drawn from a
// fixed seed (names, digests, references, ranges, headers, query values, upload sessions in odd states, manifest
// bodies of hostile shapes; test/support/hostile-requests.ts). What must hold whatever the input:
// - every request is served or refused with a 4xx, never a 5xx (docs/api.md, "Errors": a 5xx is a fault);
// - the process stays up and `/healthz` answers 200 at the end;
// - nothing is written outside the data directory: keys are built from parsed values only
//   (docs/architecture.md, "Layers"; docs/storage.md), so no request text can steer a file elsewhere;
// - resident memory returns near its idle size once the campaign is over: manifests are the only requests held
//   whole in memory, and they are bounded (README.md, its paragraph on memory; docs/configuration.md,
//   `max_manifest_size`).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { registryToml } from '../support/config.ts';
import { addedEntries, ancestorsOf, listChildren, listTree } from '../support/directory-snapshot.ts';
import { request, type HttpResponse, type RequestOptions } from '../support/http.ts';
import { fuzzCase, MIRROR_REPOSITORY, type FuzzClient, type FuzzTarget } from '../support/hostile-requests.ts';
import { content, descriptorOf, imageManifest, manifestDescriptor, OCI_CONFIG, OCI_LAYER } from '../support/oci.ts';
import { mebibytes, residentMemory } from '../support/process-memory.ts';
import { rawExchange } from '../support/raw-exchange.ts';
import { inParallel, pushBlob, pushManifest } from '../support/registry.ts';
import { SeededRandom } from '../support/seeded-random.ts';
import { startServer, type RunningServer } from '../support/server.ts';

const SEED = 0x5eed_a9;
const WARM_UP_SEED = 0x0a11_ce;
const CASES = 2200;
/**
 * V8 grows its heaps toward a steady size as requests come (measured here: RSS climbs fastest over the first
 * thousand cases and levels off after about 13,000); a warm-up this long puts most of that climb before the idle
 * reading, so what is left to see is growth the campaign causes.
 */
const WARM_UP_CASES = 1200;
/** Requests in flight at once: enough to interleave sessions and pushes, few enough for a 2-core machine. */
const WIDTH = 6;
/** Small, so bodies at and past the limit stay cheap; the rule is the same at the 5 MiB default. */
const MAX_MANIFEST_SIZE = 256 * 1024;
const RSS_GROWTH_LIMIT = 50 * 1024 * 1024;
const QUIET_MS = 3000;
/** `mkdtemp` directories of test processes (this one and any running beside it); the server never makes one. */
const TEST_TEMP_DIR = /^angos-[a-z0-9-]+-[A-Za-z0-9]{6}$/;

type StatusClass = '2xx' | '3xx' | '4xx' | '5xx' | 'no answer';

function statusClass(status: number | undefined): StatusClass {
  if (status === undefined) return 'no answer';
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  return status >= 300 ? '3xx' : '2xx';
}

/** Every answer of the campaign, by family and class, with the requests worth reporting. */
class Tally {
  readonly byClass = new Map<StatusClass, number>();
  readonly byFamily = new Map<string, Map<StatusClass, number>>();
  readonly faults: string[] = [];
  readonly unexpected: string[] = [];
  readonly dropped: string[] = [];
  sent = 0;
  pinned = 0;
  /** Messages cut short that went unanswered: allowed, since the client itself left (see `rawExchange`). */
  cutShortUnanswered = 0;

  record(family: string, status: number | undefined, what: () => string, options: { cutShort: boolean; expect?: number | undefined }): void {
    this.sent++;
    const kind = statusClass(status);
    this.byClass.set(kind, (this.byClass.get(kind) ?? 0) + 1);
    const classes = this.byFamily.get(family) ?? new Map<StatusClass, number>();
    classes.set(kind, (classes.get(kind) ?? 0) + 1);
    this.byFamily.set(family, classes);
    if (kind === '5xx') this.faults.push(`${status} ${what()}`);
    if (kind === 'no answer' && options.cutShort) this.cutShortUnanswered++;
    if (kind === 'no answer' && !options.cutShort) this.dropped.push(what());
    if (options.expect !== undefined) this.pinned++;
    if (options.expect !== undefined && status !== options.expect) this.unexpected.push(`${status ?? 'none'} (expected ${options.expect}) ${what()}`);
  }

  count(kind: StatusClass): number {
    return this.byClass.get(kind) ?? 0;
  }
}

function shorten(text: string, max = 160): string {
  const printable = JSON.stringify(text);
  return printable.length > max ? `${printable.slice(0, max)}… (${text.length} chars)` : printable;
}

function clientFor(server: RunningServer, tally: Tally, family: string): FuzzClient {
  return {
    async http(method: string, path: string, options: RequestOptions = {}, expect?: number): Promise<HttpResponse | undefined> {
      const what = () => `${method} ${shorten(path)} headers=${shorten(JSON.stringify(options.headers ?? {}), 300)}`;
      let response: HttpResponse | undefined;
      try {
        response = await request(server.url, path, { ...options, method });
      } catch {
        response = undefined;
      }
      tally.record(family, response?.status, what, { cutShort: false, expect });
      return response;
    },
    async raw(bytes: string | Buffer, cutShort = false): Promise<number | undefined> {
      const answer = await rawExchange(server.url, bytes, { halfClose: cutShort });
      tally.record(family, answer.status, () => `raw ${shorten(Buffer.from(bytes).toString('latin1'), 300)}`, { cutShort });
      return answer.status;
    },
  };
}

async function runCampaign(server: RunningServer, target: FuzzTarget, seed: number, cases: number, tally: Tally): Promise<void> {
  const random = new SeededRandom(seed);
  const drawn = Array.from({ length: cases }, () => fuzzCase(random, target));
  await inParallel(drawn, WIDTH, (fuzz) => fuzz.run(clientFor(server, tally, fuzz.family)));
}

/** Content the cases point at: a 4 KiB layer (the ranges are drawn around its size), a config, a tagged manifest. */
async function seedTarget(server: RunningServer): Promise<FuzzTarget> {
  const random = new SeededRandom(SEED ^ 0xffff);
  const name = 'fuzz/base';
  const layer = content(random.bytes(4096));
  const config = content(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  await pushBlob(server.url, name, layer);
  await pushBlob(server.url, name, config);
  const manifest = imageManifest({ config: descriptorOf(config, OCI_CONFIG), layers: [descriptorOf(layer, OCI_LAYER)] });
  await pushManifest(server.url, name, 'v1', manifest);
  return {
    name,
    layer,
    mirroredHost: 'docker.io',
    context: { config: descriptorOf(config, OCI_CONFIG), layer: descriptorOf(layer, OCI_LAYER), manifest: manifestDescriptor(manifest), maxManifestSize: MAX_MANIFEST_SIZE },
  };
}

interface FileSnapshot {
  workDir: Set<string>;
  ancestors: Map<string, Set<string>>;
}

/** The server's work directory outside its data directory, and the direct children of every directory above it. */
async function snapshotOutsideData(server: RunningServer): Promise<FileSnapshot> {
  const workDir = dirname(server.rootDir);
  const ancestors = new Map<string, Set<string>>();
  for (const dir of new Set([tmpdir(), ...ancestorsOf(workDir)])) ancestors.set(dir, await listChildren(dir));
  return { workDir: await listTree(workDir, [server.rootDir]), ancestors };
}

function filesLeaked(server: RunningServer, before: FileSnapshot, after: FileSnapshot): { leaked: string[]; ignored: string[] } {
  const leaked = addedEntries(before.workDir, after.workDir).map((entry) => `${dirname(server.rootDir)}/${entry}`);
  const ignored: string[] = [];
  for (const [dir, children] of after.ancestors) {
    for (const entry of addedEntries(before.ancestors.get(dir) ?? new Set(), children)) {
      (TEST_TEMP_DIR.test(entry) ? ignored : leaked).push(`${dir === '/' ? '' : dir}/${entry}`);
    }
  }
  return { leaked, ignored };
}

function report(t: TestContext, lines: string[]): void {
  for (const line of lines) {
    t.diagnostic(line);
    console.log(`# ${line}`);
  }
}

describe('fuzz campaign', () => {
  it(`${CASES} seeded hostile cases: no 5xx, no crash, no file outside the data directory, bounded RSS`, async (t) => {
    const server = await startServer({
      extraToml: registryToml({ global: { max_manifest_size: MAX_MANIFEST_SIZE }, extra: `[repository."${MIRROR_REPOSITORY}"]\nnamespace = "docker.io"\n` }),
    });
    let exitCode: number | null | undefined;
    server.process.once('exit', (code) => (exitCode = code));
    const pid = server.process.pid!;
    try {
      const started = Date.now();
      const target = await seedTarget(server);
      const filesBefore = await snapshotOutsideData(server);

      // Warm-up with another seed, so what the server allocates once (modules, JIT code, buffer pools, caches)
      // is in the idle figure and only growth caused by the campaign counts. Its answers count like the rest.
      const tally = new Tally();
      await runCampaign(server, target, WARM_UP_SEED, WARM_UP_CASES, tally);
      const warmUpRequests = tally.sent;
      await sleep(QUIET_MS);
      const idle = await residentMemory(pid);

      const campaignStart = Date.now();
      await runCampaign(server, target, SEED, CASES, tally);
      const campaignMs = Date.now() - campaignStart;
      await sleep(QUIET_MS);
      const afterCampaign = await residentMemory(pid);

      const health = await request(server.url, '/healthz').catch(() => undefined);
      const alive = exitCode === undefined && server.process.exitCode === null;
      const files = filesLeaked(server, filesBefore, await snapshotOutsideData(server));
      const growth = afterCampaign.rssBytes - idle.rssBytes;
      const errorLines = server.logs.filter((line) => line.level === 'ERROR');

      report(t, [
        `requests sent: ${tally.sent} (warm-up: seed ${WARM_UP_SEED}, ${WARM_UP_CASES} cases, ${warmUpRequests} requests; campaign: seed ${SEED}, ${CASES} cases, ${tally.sent - warmUpRequests} requests in ${campaignMs} ms; whole test ${Date.now() - started} ms)`,
        `answers: ${(['2xx', '3xx', '4xx', '5xx', 'no answer'] as const).map((kind) => `${kind} ${tally.count(kind)}`).join(', ')} (of them cut short by the client: ${tally.cutShortUnanswered})`,
        ...[...tally.byFamily].sort(([a], [b]) => a.localeCompare(b)).map(([family, classes]) => `  ${family}: ${[...classes].map(([kind, count]) => `${kind} ${count}`).join(', ')}`),
        `5xx answers: ${tally.faults.length}; complete requests without an answer: ${tally.dropped.length}; pinned answers missed: ${tally.unexpected.length} of ${tally.pinned}`,
        `crashes: ${alive ? 0 : 1} (exit code ${exitCode ?? 'none'}); /healthz at the end: ${health?.status ?? 'no answer'}; error log lines: ${errorLines.length}`,
        `files outside the data directory: ${files.leaked.length}${files.ignored.length > 0 ? ` (ignored ${files.ignored.length} test temp dirs made beside us)` : ''}`,
        `RSS: max ${mebibytes(afterCampaign.peakBytes)}, idle ${mebibytes(idle.rssBytes)}, after ${mebibytes(afterCampaign.rssBytes)} (growth ${mebibytes(growth)}, limit ${mebibytes(RSS_GROWTH_LIMIT)})`,
        ...tally.faults.slice(0, 20).map((fault) => `5xx: ${fault}`),
        ...tally.dropped.slice(0, 20).map((request) => `no answer: ${request}`),
        ...tally.unexpected.slice(0, 20).map((miss) => `missed: ${miss}`),
        ...errorLines.slice(0, 20).map((line) => `server error: ${shorten(JSON.stringify(line), 600)}`),
        ...files.leaked.map((path) => `outside the data directory: ${path}`),
      ]);

      assert.equal(tally.faults.length, 0, 'answers >= 500');
      assert.equal(tally.dropped.length, 0, 'complete requests the server dropped without an answer');
      assert.equal(tally.unexpected.length, 0, 'answers docs/api.md pins exactly');
      assert.ok(alive, 'the server process stays up');
      assert.equal(health?.status, 200, '/healthz at the end');
      assert.deepEqual(files.leaked, [], 'files outside the data directory');
      assert.ok(growth <= RSS_GROWTH_LIMIT, `RSS grew by ${mebibytes(growth)}`);
    } finally {
      await server.stop();
    }
  });
});
