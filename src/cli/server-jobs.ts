// The job queue inside `angos server` (docs/operations.md, "Job queue"). Without [global.job_queue] the server drains
// in-process: cache loops, and replication loops when some repository has a downstream. With it the server only
// enqueues, runs the claim probe (its failure fails the start) and publishes the queue gauges; workers drain.
import type { Config } from '../config/types.ts';
import { probeClaimMode } from '../jobs/claims.ts';
import { JobDrainer } from '../jobs/drainer.ts';
import { startJobGauges } from '../jobs/gauges.ts';
import { DEFAULT_JOB_POLICY, type JobHandler } from '../jobs/queue.ts';
import type { PullThrough } from '../mirror/pull-through.ts';
import type { Upstreams } from '../mirror/upstreams.ts';
import type { Registry } from '../registry/registry.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { buildJobHandlers } from './job-handlers.ts';

/** The in-process drainers' idle poll. */
const IN_PROCESS_POLL_MS = 1000;
/** How long shutdown waits for running jobs before cancelling them (2 s more to unwind: 30 s in all). */
export const JOB_SHUTDOWN_GRACE_MS = 28_000;

export interface ServerJobParts {
  readonly registry: Registry;
  readonly metaStore: ObjectStore;
  readonly upstreams: Upstreams;
  readonly pullThrough: PullThrough | undefined;
}

export interface ServerJobs {
  /** Stops claiming and waits for running jobs (up to the grace), or stops the gauges. */
  stop(): Promise<void>;
}

/** Starts what the server does with the queue; throws when the claim probe fails (with [global.job_queue]). */
export async function startServerJobs(config: Config, current: () => Config, parts: () => ServerJobParts): Promise<ServerJobs> {
  const jobQueue = config.global.jobQueue;
  if (jobQueue !== undefined) {
    try {
      await probeClaimMode(parts().metaStore);
    } catch (err) {
      throw new Error(`job queue claim probe failed on the metadata store: ${(err as Error).message}`);
    }
    const stopGauges = startJobGauges(() => parts().metaStore, jobQueue);
    return { stop: async () => stopGauges() };
  }
  // Handlers are rebuilt when a reload replaced the configuration or the registry, and used from the next claim.
  let built: { config: Config; registry: Registry; upstreams: Upstreams; handlers: ReadonlyMap<string, JobHandler> } | undefined;
  const drainerParts = () => {
    const { registry, metaStore, upstreams, pullThrough } = parts();
    const config = current();
    if (built?.config !== config || built.registry !== registry || built.upstreams !== upstreams) {
      built = { config, registry, upstreams, handlers: buildJobHandlers({ config, registry, upstreams, ...(pullThrough ? { pullThrough } : {}) }) };
    }
    return { store: metaStore, handlers: built.handlers };
  };
  const common = { pollMs: IN_PROCESS_POLL_MS, claimMode: 'atomic' as const, policy: () => DEFAULT_JOB_POLICY, parts: drainerParts };
  const drainers = [new JobDrainer({ ...common, queue: 'cache', concurrency: config.global.maxConcurrentCacheJobs })];
  if (config.repositories.some((repo) => repo.downstreams.length > 0)) {
    drainers.push(new JobDrainer({ ...common, queue: 'replication', concurrency: config.global.maxConcurrentReplicationJobs }));
  }
  for (const drainer of drainers) drainer.start();
  return { stop: async () => void (await Promise.all(drainers.map((drainer) => drainer.stop(JOB_SHUTDOWN_GRACE_MS)))) };
}
