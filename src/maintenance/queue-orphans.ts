// `scrub --cache-orphans` and `--replication-orphans` (docs/operations.md, "scrub"): delete queued jobs, pending or
// failed, that no configured repository would run any more. A cache job is orphaned once its namespace is no longer
// in a pull-through repository; a replication job once its namespace has no repository or that repository no
// downstream of the job's name (a changed mode is not orphaning). Payloads that do not decode are left alone.
import { owningRepository } from '../config/repository-lookup.ts';
import type { Config } from '../config/types.ts';
import { JobStore } from '../jobs/job-store.ts';
import { jobPolicyOf, type JobEnvelope, type QueueName } from '../jobs/queue.ts';
import { parseNamespace } from '../oci/name.ts';
import type { MaintenanceContext } from './context.ts';
import type { StoreCheck } from './scrub.ts';

/** Why the job is orphaned, undefined when it is not, or `undecodable` when its payload cannot say. */
type Verdict = string | undefined | 'undecodable';

function cacheVerdict(config: Config, job: JobEnvelope): Verdict {
  const ns = typeof job.payload.namespace === 'string' ? parseNamespace(job.payload.namespace) : undefined;
  if (!ns) return 'undecodable';
  const repo = owningRepository(config, ns);
  if (repo === undefined) return `'${ns}' is in no repository`;
  return repo.upstreams.length === 0 ? `repository '${repo.name}' has no upstream` : undefined;
}

function replicationVerdict(config: Config, job: JobEnvelope): Verdict {
  const ns = typeof job.payload.namespace === 'string' ? parseNamespace(job.payload.namespace) : undefined;
  const downstream = job.payload.downstream;
  if (!ns || typeof downstream !== 'string' || downstream === '') return 'undecodable';
  const repo = owningRepository(config, ns);
  if (repo === undefined) return `'${ns}' is in no repository`;
  return repo.downstreams.some((d) => d.name === downstream) ? undefined : `repository '${repo.name}' has no downstream '${downstream}'`;
}

function orphanCheck(flag: string, queue: QueueName, verdict: (config: Config, job: JobEnvelope) => Verdict): StoreCheck {
  return {
    flag,
    run: async (context: MaintenanceContext) => {
      const jobs = new JobStore(context.metaStore, () => jobPolicyOf(context.config.global.jobQueue), context.now);
      for (const state of ['pending', 'failed'] as const) {
        for await (const { storageKey, record } of jobs.walk(queue, state)) {
          const reason = record === undefined ? 'undecodable' : verdict(context.config, record);
          if (reason === undefined || reason === 'undecodable') continue;
          await context.actions.run(`delete orphaned ${queue} job`, `${state}/${storageKey} (${record!.lock_key}): ${reason}`, async () =>
            (await jobs.delete(queue, state, storageKey)) ? 'applied' : 'skipped',
          );
        }
      }
    },
  };
}

export const replicationOrphansCheck = orphanCheck('--replication-orphans', 'replication', replicationVerdict);
export const cacheOrphansCheck = orphanCheck('--cache-orphans', 'cache', cacheVerdict);
