// `angos worker` (README.md, "Command line"). Option parsing and the job-queue requirement are complete; the queue
// runner comes with the jobs work.
import type { Config } from '../config/types.ts';
import { startupFailure } from './startup.ts';

export const QUEUES = ['cache', 'replication'] as const;
export type QueueName = (typeof QUEUES)[number];

export interface WorkerOptions {
  /** Distinct, in first-seen order; both queues when none was named. */
  readonly queues: readonly QueueName[];
  readonly pollIntervalMs: number;
}

export async function runWorker(config: Config, _configPaths: readonly string[], _options: WorkerOptions): Promise<number> {
  if (config.global.jobQueue === undefined) {
    return startupFailure('worker', '[global.job_queue] is required for the worker subcommand');
  }
  process.stderr.write('worker is not implemented yet\n');
  return 1;
}
