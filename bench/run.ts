import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { BlobSource } from './blob-source.ts';
import { HttpClient } from './client/http-client.ts';
import { figureSpecs, type FigureId, type Instance, type InstanceOptions, type Measure, type WorkloadContext } from './figures.ts';
import { describeMachine, peakRssBytes } from './machine.ts';
import { missingPrerequisites } from './prerequisites.ts';
import { renderMarkdown, summarizeTargets, writeResults } from './report.ts';
import type { BenchResult } from './results-model.ts';
import { readSettings, type BenchSettings } from './settings.ts';
import { startAngos } from './systems/angos.ts';
import { startDistribution } from './systems/distribution.ts';
import { NGINX_BLOB_PATH, startNginx } from './systems/nginx.ts';
import { PullThroughUpstream } from './systems/pull-through-upstream.ts';
import { RadosGateway } from './systems/rgw.ts';
import type { RunningSystem, SystemName } from './systems/system.ts';
import { startWriteCeiling } from './systems/write-ceiling.ts';
import { prepareBlobPull } from './workloads/blob-pull.ts';
import { prepareBlobPush, prepareCeilingPush } from './workloads/blob-push.ts';
import { prepareGc } from './workloads/gc.ts';
import { prepareListings } from './workloads/listings.ts';
import { prepareManifests } from './workloads/manifests.ts';
import { preparePullThrough } from './workloads/pull-through.ts';
import { prepareS3 } from './workloads/s3.ts';
import { prepareScale } from './workloads/scale.ts';
import { prepareSmallImages } from './workloads/small-images.ts';

const LOAD_GENERATOR =
  'in-process raw keep-alive sockets (one closed loop per connection, bodies skipped in reused buffers); ' +
  'uploads through a node:http keep-alive agent; blob pulls also with curl (native client, bodies to /dev/null)';
const resultsDir = resolve(import.meta.dirname, 'results');
const began = performance.now();

interface Phase {
  label: string;
  systems: SystemName[];
  prepare(ctx: WorkloadContext): Promise<Measure>;
  /** Stops what the phase's set-ups started for the phase as a whole; also called when a run fails. */
  finish?(): Promise<void>;
}

/** The S3 phase's gateway, started by its first set-up and shared by both registries (a bucket each). */
let rgw: Promise<RadosGateway> | undefined;
let rgwStarted: RadosGateway | undefined;
async function startedGateway(): Promise<RadosGateway> {
  rgw ??= RadosGateway.start().then((gateway) => {
    rgwStarted = gateway;
    progress('rgw', `Ceph RADOS Gateway at ${gateway.endpoint}`);
    return gateway;
  });
  return rgw;
}
async function stopGateway(): Promise<void> {
  const gateway = await rgw?.catch(() => undefined);
  rgw = undefined;
  rgwStarted = undefined;
  await gateway?.stop();
}

/** The pull-through phase's upstream (a plain Distribution whose log counts its requests), shared by both caches. */
let upstream: Promise<PullThroughUpstream> | undefined;
let upstreamStarted: PullThroughUpstream | undefined;
async function startedUpstream(): Promise<PullThroughUpstream> {
  upstream ??= PullThroughUpstream.start().then((started) => {
    upstreamStarted = started;
    progress('upstream', `Distribution at ${started.url} (pid ${started.registry.pid}), its requests counted from ${started.logFile}`);
    return started;
  });
  return upstream;
}
async function stopUpstream(): Promise<void> {
  const started = await upstream?.catch(() => undefined);
  upstream = undefined;
  upstreamStarted = undefined;
  await started?.stop();
}

const REGISTRIES: SystemName[] = ['angos', 'distribution'];
/**
 * Listings come first, so the catalog is measured on a store holding exactly its namespaces. The scale and gc phases
 * run on servers of their own (`startInstance`), so their data shapes touch no other phase.
 */
const PHASES: Phase[] = [
  { label: 'listings', systems: REGISTRIES, prepare: prepareListings },
  { label: 'manifests', systems: REGISTRIES, prepare: prepareManifests },
  { label: 'small images', systems: REGISTRIES, prepare: prepareSmallImages },
  {
    label: 'blob push',
    systems: [...REGISTRIES, 'ceiling'],
    prepare: (ctx) => (ctx.system === 'ceiling' ? prepareCeilingPush(ctx) : prepareBlobPush(ctx)),
  },
  {
    label: 'blob pull',
    systems: [...REGISTRIES, 'nginx'],
    prepare: (ctx) => prepareBlobPull(ctx, ctx.system === 'nginx' ? NGINX_BLOB_PATH : undefined),
  },
  { label: 'scale', systems: REGISTRIES, prepare: prepareScale },
  { label: 'gc', systems: REGISTRIES, prepare: prepareGc },
  { label: 's3', systems: REGISTRIES, prepare: async (ctx) => prepareS3(ctx, await startedGateway()), finish: stopGateway },
  {
    label: 'pull-through',
    systems: [...REGISTRIES, 'nginx'],
    prepare: async (ctx) => preparePullThrough(ctx, await startedUpstream(), NGINX_BLOB_PATH),
    finish: stopUpstream,
  },
];

interface Target {
  system: RunningSystem;
  dir: string;
  client: HttpClient;
  ctx: WorkloadContext;
  /** Servers a workload started for its phase (`startInstance`), stopped when the phase ends. */
  instances: Array<Instance & { label: string }>;
}

function progress(system: SystemName, message: string): void {
  const seconds = ((performance.now() - began) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[${seconds}s] ${system}: ${message}\n`);
}

/**
 * Runs every phase with the systems' runs interleaved (A B, then B A, ...): this machine is shared, and a busy
 * minute must land on every system alike rather than on whichever happened to be measured then. Set-ups run
 * one system at a time; all servers stay up, idle when not measured.
 */
async function runPhases(targets: Map<SystemName, Target>, settings: BenchSettings, result: Pick<BenchResult, 'peakRssByPhase'>): Promise<void> {
  const unknown = settings.only.filter((label) => !PHASES.some((phase) => phase.label === label));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY: unknown phase ${unknown.join(', ')}; phases: ${PHASES.map((p) => p.label).join(', ')}`);
  for (const phase of PHASES) {
    if (settings.only.length > 0 && !settings.only.includes(phase.label)) continue;
    const measures: Array<[SystemName, Measure]> = [];
    for (const name of phase.systems) measures.push([name, await phase.prepare(targets.get(name)!.ctx)]);
    for (let run = 1; run <= settings.runs; run++) {
      const order = run % 2 === 1 ? measures : [...measures].reverse();
      for (const [, measure] of order) await measure(run);
    }
    for (const name of phase.systems) {
      const target = targets.get(name)!;
      for (const instance of target.instances.splice(0)) {
        const rss = peakRssBytes(instance.system.pid);
        if (rss !== undefined) (result.peakRssByPhase[name] ??= {})[`${phase.label} (own server, ${instance.label})`] = Math.round(rss / 1024 / 1024);
        await stopInstance(instance);
      }
    }
    await phase.finish?.();
    for (const name of REGISTRIES) {
      const rss = peakRssBytes(targets.get(name)!.system.pid);
      if (rss === undefined) continue;
      (result.peakRssByPhase[name] ??= {})[phase.label] = Math.round(rss / 1024 / 1024);
      progress(name, `peak RSS after ${phase.label}: ${Math.round(rss / 1024 / 1024)} MiB`);
    }
  }
}

function instanceDirOf(workDir: string, name: SystemName, label: string): string {
  return join(workDir, `${name}-${label.replace(/[^a-z0-9]+/gi, '-')}`);
}

async function stopInstance(instance: Instance): Promise<void> {
  instance.client.close();
  await instance.system.stop();
}

/** The server's own account of a failure, shown before its temp dir is removed. */
async function logTail(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-20).join('\n');
}

async function main(): Promise<number> {
  const settings = readSettings(process.env);
  const problems = missingPrerequisites(settings.only.length === 0 || settings.only.includes('s3'));
  if (problems.length > 0) {
    for (const problem of problems) process.stderr.write(`bench: ${problem}\n`);
    return 1;
  }
  const startedAt = new Date().toISOString();
  const workDir = await mkdtemp(join(tmpdir(), 'angos-bench-'));
  const targets = new Map<SystemName, Target>();
  const collected: Pick<BenchResult, 'samples' | 'peakRssByPhase'> = {
    samples: { angos: {}, distribution: {}, nginx: {}, ceiling: {}, rgw: {}, upstream: {} },
    peakRssByPhase: {},
  };
  try {
    // nginx started as root serves as `nobody`, which must be able to reach the blob file in our temp dir.
    await chmod(workDir, 0o755);
    const staticDir = join(workDir, 'static');
    await mkdir(staticDir);
    const blobs = await BlobSource.create(settings.blobBytes, join(staticDir, NGINX_BLOB_PATH.slice(1)));
    const starters: Array<[SystemName, (dir: string, options?: InstanceOptions) => Promise<RunningSystem>]> = [
      ['angos', startAngos],
      ['distribution', startDistribution],
      ['nginx', (dir) => startNginx(dir, staticDir)],
      ['ceiling', startWriteCeiling],
    ];
    const sockets = Math.max(settings.connections, settings.pullStreams);
    for (const [name, start] of starters) {
      const dir = join(workDir, name);
      await mkdir(dir);
      const system = await start(dir);
      const client = new HttpClient(system.url, sockets);
      const record = (id: FigureId, value: number, as: SystemName = name): void => {
        (collected.samples[as][id] ??= []).push(value);
      };
      const instances: Target['instances'] = [];
      const startInstance = async (label: string, options?: InstanceOptions): Promise<Instance> => {
        const instanceDir = instanceDirOf(workDir, name, label);
        await mkdir(instanceDir);
        const instanceSystem = await start(instanceDir, options);
        const instance = { label, system: instanceSystem, client: new HttpClient(instanceSystem.url, sockets) };
        instances.push(instance);
        progress(name, `${label}: own server at ${instanceSystem.url} (pid ${instanceSystem.pid})`);
        return instance;
      };
      const ctx: WorkloadContext = { system: name, client, settings, blobs, record, progress: (m) => progress(name, m), startInstance };
      targets.set(name, { system, dir, client, ctx, instances });
      const rss = peakRssBytes(system.pid);
      if (REGISTRIES.includes(name) && rss !== undefined) (collected.peakRssByPhase[name] ??= {})['start-up'] = Math.round(rss / 1024 / 1024);
      progress(name, `started at ${system.url} (pid ${system.pid})`);
    }
    try {
      await runPhases(targets, settings, collected);
    } catch (error) {
      for (const [name, target] of targets) {
        process.stderr.write(`--- last lines of the ${name} log ---\n${await logTail(join(target.dir, `${name}.log`))}\n`);
        for (const instance of target.instances) {
          const log = join(instanceDirOf(workDir, name, instance.label), `${name}.log`);
          process.stderr.write(`--- last lines of the ${name} log (${instance.label}) ---\n${await logTail(log)}\n`);
        }
      }
      if (rgwStarted !== undefined) process.stderr.write(`--- last lines of the gateway log ---\n${await logTail(rgwStarted.logFile)}\n`);
      if (upstreamStarted !== undefined) {
        process.stderr.write(`--- last lines of the pull-through upstream's log ---\n${await logTail(upstreamStarted.logFile)}\n`);
      }
      throw error;
    }
    for (const name of REGISTRIES) {
      const peak = peakRssBytes(targets.get(name)!.system.pid);
      if (peak !== undefined) collected.samples[name]['rss.peak'] = [peak / 1024 / 1024];
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
    // A partial run (BENCH_ONLY) is a profiling aid, kept apart from the reported full runs.
    const written = await writeResults(settings.only.length > 0 ? join(resultsDir, 'partial') : resultsDir, result);
    process.stdout.write(`${renderMarkdown(result)}\n${summarizeTargets(result)}\n\nwritten: ${relative(process.cwd(), written)}\n`);
    return 0;
  } finally {
    for (const target of targets.values()) {
      for (const instance of target.instances) await stopInstance(instance);
      target.client.close();
      await target.system.stop();
    }
    for (const phase of PHASES) await phase.finish?.();
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
