import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { BlobSource } from './blob-source.ts';
import { HttpClient } from './client/http-client.ts';
import { figureSpecs, type FigureId, type WorkloadContext } from './figures.ts';
import { describeMachine, peakRssBytes } from './machine.ts';
import { missingPrerequisites } from './prerequisites.ts';
import { writeResults, renderMarkdown, summarizeTargets } from './report.ts';
import type { BenchResult } from './results-model.ts';
import { readSettings, type BenchSettings } from './settings.ts';
import { startAngos } from './systems/angos.ts';
import { startDistribution } from './systems/distribution.ts';
import { NGINX_BLOB_PATH, startNginx } from './systems/nginx.ts';
import type { RunningSystem, SystemName } from './systems/system.ts';
import { preparePull, runBlobPull } from './workloads/blob-pull.ts';
import { runBlobPush } from './workloads/blob-push.ts';
import { runListings } from './workloads/listings.ts';
import { runManifests } from './workloads/manifests.ts';
import { runSmallImages } from './workloads/small-images.ts';

const LOAD_GENERATOR =
  'in-process raw keep-alive sockets (one closed loop per connection, bodies skipped in reused buffers); ' +
  'uploads through a node:http keep-alive agent';
const resultsDir = resolve(import.meta.dirname, 'results');
const began = performance.now();

function progress(system: SystemName, message: string): void {
  const seconds = ((performance.now() - began) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[${seconds}s] ${system}: ${message}\n`);
}

type Phase = [label: string, run: (ctx: WorkloadContext) => Promise<void>];

/** A registry gets the whole workload, listings first so the catalog is measured on a fresh store. */
const REGISTRY_PHASES: Phase[] = [
  ['listings', runListings],
  ['manifests', runManifests],
  ['small images', runSmallImages],
  ['blob push', runBlobPush],
  ['blob pull', async (ctx) => runBlobPull(ctx, await preparePull(ctx))],
];
/** nginx is only the ceiling for a download. */
const NGINX_PHASES: Phase[] = [['blob pull', (ctx) => runBlobPull(ctx, NGINX_BLOB_PATH)]];

/**
 * One system at a time, so the servers never compete for the two cores. The server's high-water RSS is read
 * after every phase, which tells which workload drove the peak.
 */
async function benchSystem(
  name: SystemName,
  dir: string,
  start: (dir: string) => Promise<RunningSystem>,
  settings: BenchSettings,
  blobs: BlobSource,
  result: Pick<BenchResult, 'samples' | 'peakRssByPhase'>,
): Promise<void> {
  const system = await start(dir);
  const client = new HttpClient(system.url, Math.max(settings.connections, settings.pullStreams));
  const record = (id: FigureId, value: number): void => {
    (result.samples[name][id] ??= []).push(value);
  };
  const ctx: WorkloadContext = { system: name, client, settings, blobs, record, progress: (m) => progress(name, m) };
  progress(name, `started at ${system.url} (pid ${system.pid})`);
  const rssByPhase: Record<string, number> = {};
  const startupRss = peakRssBytes(system.pid);
  if (startupRss !== undefined) rssByPhase['start-up'] = Math.round(startupRss / 1024 / 1024);
  try {
    for (const [label, run] of name === 'nginx' ? NGINX_PHASES : REGISTRY_PHASES) {
      await run(ctx);
      const rss = peakRssBytes(system.pid);
      if (rss === undefined) continue;
      rssByPhase[label] = Math.round(rss / 1024 / 1024);
      progress(name, `peak RSS after ${label}: ${rssByPhase[label]} MiB`);
    }
    // nginx's master process is not where it serves from; only the registries' single process is comparable.
    const peak = peakRssBytes(system.pid);
    if (name !== 'nginx' && peak !== undefined) record('rss.peak', peak / 1024 / 1024);
    if (name !== 'nginx') result.peakRssByPhase[name] = rssByPhase;
  } catch (error) {
    process.stderr.write(`--- last lines of the ${name} log ---\n${await logTail(join(dir, `${name}.log`))}\n`);
    throw error;
  } finally {
    client.close();
    await system.stop();
  }
}

/** The server's own account of a failure, shown before its temp dir is removed. */
async function logTail(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-20).join('\n');
}

async function main(): Promise<number> {
  const problems = missingPrerequisites();
  if (problems.length > 0) {
    for (const problem of problems) process.stderr.write(`bench: ${problem}\n`);
    return 1;
  }
  const settings = readSettings(process.env);
  const startedAt = new Date().toISOString();
  const workDir = await mkdtemp(join(tmpdir(), 'angos-bench-'));
  try {
    // nginx started as root serves as `nobody`, which must be able to reach the blob file in our temp dir.
    await chmod(workDir, 0o755);
    const staticDir = join(workDir, 'static');
    await mkdir(staticDir);
    const blobs = await BlobSource.create(settings.blobBytes, join(staticDir, NGINX_BLOB_PATH.slice(1)));
    const collected: Pick<BenchResult, 'samples' | 'peakRssByPhase'> = {
      samples: { angos: {}, distribution: {}, nginx: {} },
      peakRssByPhase: {},
    };
    const systems: Array<[SystemName, (dir: string) => Promise<RunningSystem>]> = [
      ['angos', startAngos],
      ['distribution', startDistribution],
      ['nginx', (dir) => startNginx(dir, staticDir)],
    ];
    for (const [name, start] of systems) {
      const dir = join(workDir, name);
      await mkdir(dir);
      await benchSystem(name, dir, start, settings, blobs, collected);
      // Gigabytes of pushed blobs: drop them before the next system so disk and page cache start alike.
      await rm(dir, { recursive: true, force: true });
    }
    const result: BenchResult = {
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: describeMachine(),
      settings,
      loadGenerator: LOAD_GENERATOR,
      figures: figureSpecs(settings),
      ...collected,
    };
    const written = await writeResults(resultsDir, result);
    process.stdout.write(`${renderMarkdown(result)}\n${summarizeTargets(result)}\n\nwritten: ${relative(process.cwd(), written)}\n`);
    return 0;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
