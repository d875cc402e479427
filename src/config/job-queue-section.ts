// `[global.job_queue]` (docs/configuration.md): its presence moves job draining from the server to `angos worker`
// processes, which share the queue through the metadata store. No lock service is needed: claims use the store's
// atomic create (docs/operations.md, "Job queue"), so the section works on a filesystem or S3 metadata store as is.
import { ConfigValueError, type TableReader } from './table-reader.ts';
import type { JobQueueConfig } from './types.ts';

/** Longer claims are clamped: a crashed worker's job would otherwise wait more than a day to run again. */
const MAX_CLAIM_TTL_SECS = 86_400;

function atLeast(queue: TableReader, key: string, min: number, fallback: number): number {
  const value = queue.integer(key) ?? fallback;
  if (value < min) throw new ConfigValueError(`${queue.pathOf(key)}: ${key} must be at least ${min}, got ${value}`);
  return value;
}

export function readJobQueue(queue: TableReader): JobQueueConfig {
  const pendingRefreshIntervalSecs = atLeast(queue, 'pending_refresh_interval_secs', 5, 15);
  const pendingReadyHorizonSecs = queue.integer('pending_ready_horizon_secs', { min: 0 }) ?? 600;
  const maxAttempts = queue.integer('max_attempts', { min: 0 }) ?? 5;
  // A zero backoff would retry a failing store in a tight loop.
  const retryBackoffMinMs = atLeast(queue, 'retry_backoff_min_ms', 1, 100);
  const retryBackoffMaxMs = queue.integer('retry_backoff_max_ms') ?? 10_000;
  if (retryBackoffMaxMs < retryBackoffMinMs) {
    throw new ConfigValueError(`${queue.pathOf('retry_backoff_max_ms')} must be at least retry_backoff_min_ms (${retryBackoffMinMs}), got ${retryBackoffMaxMs}`);
  }
  let claimTtlSecs = atLeast(queue, 'claim_ttl_secs', 3, 60);
  if (claimTtlSecs > MAX_CLAIM_TTL_SECS) {
    queue.warn(`${queue.pathOf('claim_ttl_secs')} = ${claimTtlSecs} is above ${MAX_CLAIM_TTL_SECS}; using ${MAX_CLAIM_TTL_SECS}`);
    claimTtlSecs = MAX_CLAIM_TTL_SECS;
  }
  const config: JobQueueConfig = {
    pendingRefreshIntervalSecs,
    pendingReadyHorizonSecs,
    maxAttempts,
    retryBackoffMinMs,
    retryBackoffMaxMs,
    claimTtlSecs,
  };
  queue.finish();
  return config;
}
