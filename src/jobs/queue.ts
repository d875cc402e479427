// The job queue's vocabulary (docs/operations.md, "Job queue"): what a job is, what enqueues one, what runs one.
import type { JobQueueConfig } from '../config/types.ts';
import { JOB_QUEUES, type JobQueueName } from '../registry/keys.ts';

export const QUEUES = JOB_QUEUES;
export type QueueName = JobQueueName;

/** A pending job as stored (`_jobs/pending/<queue>/<storage_key>.json`); its due time is in the storage key only. */
export interface JobEnvelope {
  readonly id: string;
  readonly queue: QueueName;
  readonly kind: string;
  readonly lock_key: string;
  readonly created_at: string;
  /** Failed executions so far. */
  readonly attempts: number;
  readonly max_attempts: number;
  readonly payload: Record<string, unknown>;
}

/** A dead letter (`_jobs/failed/…`): the envelope, `attempts` counting every failed execution, and the last error. */
export interface DeadLetter extends JobEnvelope {
  readonly last_error: string;
  readonly failed_at: string;
}

/** Enqueue side, used by servers (both modes) and scrub. */
export interface JobQueue {
  /**
   * Adds a job unless an unclaimed one of the same `(queue, lockKey)` waits already (coalescing): resolves `miss`
   * when this call added it, `hit` when it joined the waiting one. Counts `angos_job_queue_enqueued_total` and, on
   * failure, `angos_job_queue_enqueue_failures_total`; throws on failure (callers log it).
   */
  enqueue(queue: QueueName, kind: string, lockKey: string, payload: Record<string, unknown>): Promise<'hit' | 'miss'>;
}

/**
 * Runs one job: resolving is success; throwing `TerminalJobError` dead-letters the job at once; any other throw is a
 * failure, retried with backoff. `signal` aborts when the claim is lost or on a forced shutdown: the handler should
 * stop, and whatever it returns then is ignored. Handlers must be idempotent: a crashed drainer's job runs again.
 */
export type JobHandler = (job: JobEnvelope, signal: AbortSignal) => Promise<void>;

/** A failure retrying cannot fix (an upstream's 403): the job is dead-lettered now. */
export class TerminalJobError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TerminalJobError';
  }
}

/** The retry and claim settings in force: `[global.job_queue]`, or its defaults when the server drains in-process. */
export type JobPolicy = Pick<JobQueueConfig, 'maxAttempts' | 'retryBackoffMinMs' | 'retryBackoffMaxMs' | 'claimTtlSecs'>;

export const DEFAULT_JOB_POLICY: JobPolicy = { maxAttempts: 5, retryBackoffMinMs: 100, retryBackoffMaxMs: 10_000, claimTtlSecs: 60 };

export function jobPolicyOf(config: JobQueueConfig | undefined): JobPolicy {
  if (config === undefined) return DEFAULT_JOB_POLICY;
  const { maxAttempts, retryBackoffMinMs, retryBackoffMaxMs, claimTtlSecs } = config;
  return { maxAttempts, retryBackoffMinMs, retryBackoffMaxMs, claimTtlSecs };
}

/** Delay before the retry that follows `attempts` failed executions: `min(min × 2^attempts, max)`, no jitter. */
export function retryDelayMs(policy: JobPolicy, attempts: number): number {
  return Math.min(policy.retryBackoffMinMs * 2 ** attempts, policy.retryBackoffMaxMs);
}
