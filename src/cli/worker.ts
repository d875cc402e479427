// `angos worker` (README.md, "Command line"; docs/operations.md, "Job queue"): drains the durable job queue that
// servers with [global.job_queue] fill. One pool of claim loops per queue; no listener, no metrics.
import { DEFAULT_CONFIG_PATH } from '../config/load.ts';
import { watchConfigFiles } from '../config/watch.ts';
import type { Config } from '../config/types.ts';
import { probeClaimMode, type ClaimMode } from '../jobs/claims.ts';
import { JobDrainer, type DrainerParts } from '../jobs/drainer.ts';
import { jobPolicyOf, type JobHandler, type QueueName } from '../jobs/queue.ts';
import { logger } from '../observability/logging.ts';
import { LOGGED_EVENTS } from '../registry/events.ts';
import { openRegistry, registrySettings, type RegistryParts } from './components.ts';
import { Upstreams } from '../mirror/upstreams.ts';
import { buildJobHandlers } from './job-handlers.ts';
import { reloadConfig } from './reload.ts';
import { JOB_SHUTDOWN_GRACE_MS } from './server-jobs.ts';
import { startupFailure } from './startup.ts';

export { QUEUES, type QueueName } from '../jobs/queue.ts';

const log = logger('angos::command::worker');
/** How long a cache replaced by a reload stays open for the jobs that started with it. */
const CACHE_RETIRE_MS = 60_000;

export interface WorkerOptions {
  /** Distinct, in first-seen order; both queues when none was named. */
  readonly queues: readonly QueueName[];
  readonly pollIntervalMs: number;
}

/** What claims run on; replaced whole by a reload, so running jobs keep the set they started with. */
interface WorkerParts extends RegistryParts {
  readonly config: Config;
  readonly upstreams: Upstreams;
  readonly handlers: ReadonlyMap<string, JobHandler>;
}

async function buildParts(config: Config): Promise<WorkerParts> {
  const parts = await openRegistry(config, () => registrySettings(config), LOGGED_EVENTS);
  let upstreams: Upstreams;
  try {
    upstreams = await Upstreams.open(config, parts.cache);
  } catch (err) {
    await parts.cache.close();
    throw err;
  }
  return { ...parts, config, upstreams, handlers: buildJobHandlers({ config, registry: parts.registry, upstreams }) };
}

export async function runWorker(config: Config, configPaths: readonly string[], options: WorkerOptions): Promise<number> {
  const jobQueue = config.global.jobQueue;
  if (jobQueue === undefined) return startupFailure('worker', '[global.job_queue] is required for the worker subcommand');
  let parts: WorkerParts;
  try {
    parts = await buildParts(config);
  } catch (err) {
    return startupFailure('worker', (err as Error).message);
  }
  let claimMode: ClaimMode;
  try {
    claimMode = await probeClaimMode(parts.metaStore);
  } catch (err) {
    await Promise.all([parts.cache.close(), parts.upstreams.close()]);
    return startupFailure('worker', `job queue claim probe failed on the metadata store: ${(err as Error).message}`);
  }
  const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const drainerParts = (): DrainerParts => ({ store: parts.metaStore, handlers: parts.handlers });
  const drainers = options.queues.map(
    (queue) =>
      new JobDrainer({
        queue,
        concurrency: poolSize(config, queue),
        pollMs: options.pollIntervalMs,
        claimMode,
        policy: () => jobPolicyOf(parts.config.global.jobQueue),
        parts: drainerParts,
      }),
  );
  const stopConfigReload = watchConfigFiles(configPaths.length > 0 ? configPaths : [DEFAULT_CONFIG_PATH], () => {
    void reload(parts, configPaths).then((next) => {
      if (next === undefined) return;
      const previous = parts;
      parts = next;
      // Jobs that started on the old set finish with it; its cache closes a minute later.
      setTimeout(() => void Promise.all([previous.cache.close(), previous.upstreams.close()]), CACHE_RETIRE_MS).unref();
    });
  });
  for (const drainer of drainers) drainer.start();
  log.info(`Worker started`, {
    queues: options.queues.join(','),
    pools: drainers.map((drainer) => `${drainer.queue}=${poolSize(config, drainer.queue)}`).join(','),
    poll_interval_ms: options.pollIntervalMs,
    claims: claimMode,
  });

  const signal = await stopRequested;
  const hurry = () => process.exit(1);
  process.once('SIGINT', hurry);
  process.once('SIGTERM', hurry);
  log.info(`Received ${signal}, finishing running jobs`);
  stopConfigReload();
  const finished = await Promise.all(drainers.map((drainer) => drainer.stop(JOB_SHUTDOWN_GRACE_MS)));
  if (finished.some((done) => !done)) log.warn('Shutdown grace elapsed; running jobs were cancelled and run again once their claims lapse');
  await Promise.all([parts.cache.close(), parts.upstreams.close()]);
  log.info('Worker stopped');
  return 0;
}

/** `max_concurrent_cache_jobs` / `max_concurrent_replication_jobs`, fixed at start-up. */
function poolSize(config: Config, queue: QueueName): number {
  return Math.max(1, queue === 'cache' ? config.global.maxConcurrentCacheJobs : config.global.maxConcurrentReplicationJobs);
}

/** The parts of the configuration now in the files, or undefined (logged) when it cannot be loaded or built. */
async function reload(running: WorkerParts, configPaths: readonly string[]): Promise<WorkerParts | undefined> {
  const result = await reloadConfig(running.config, configPaths);
  if (!result.ok) {
    log.error(`Failed to reload configuration: ${result.reason}`);
    return undefined;
  }
  let next: WorkerParts;
  try {
    next = await buildParts(result.config);
  } catch (err) {
    log.error(`Failed to apply configuration: ${(err as Error).message}`);
    return undefined;
  }
  for (const key of result.restartRequired) log.warn(`${key} changed: a restart is required to apply it; the running value is kept`);
  log.info('Configuration reloaded');
  return next;
}

