// `[global.job_queue]` (docs/configuration.md): its presence moves job draining from the server to `angos worker`
// processes, which share the queue through the metadata store and so need a lock shared between processes.
import { ConfigValueError, type TableReader } from './table-reader.ts';
import type { JobQueueConfig, MetadataStoreConfig } from './types.ts';

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

/** `[global.job_queue]` with the process-local `memory` lock is refused: workers and the server would not exclude each other. */
export function checkJobQueue(jobQueue: JobQueueConfig | undefined, metadataStore: MetadataStoreConfig): void {
  if (jobQueue === undefined || metadataStore.lockStrategy.kind !== 'memory') return;
  throw new ConfigValueError(
    `global.job_queue: [global.job_queue] needs a lock shared between processes: configure ` +
      `metadata_store.${metadataStore.kind}.lock_strategy.redis or metadata_store.s3.lock_strategy.s3, or remove [global.job_queue]`,
  );
}
