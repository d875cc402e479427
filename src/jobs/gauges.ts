// `angos_job_queue_pending` and `angos_job_queue_failed` (docs/operations.md, "Job queue"): published by a server
// with [global.job_queue], whose queue workers drain elsewhere. Counting reads listings only, never records.
import type { JobQueueConfig } from '../config/types.ts';
import { logger } from '../observability/logging.ts';
import { jobQueueFailed, jobQueuePending, publishJobQueueGauges } from '../observability/metrics.ts';
import { jobKeys } from '../registry/keys.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { QUEUES, type QueueName } from './queue.ts';

const log = logger('angos::jobs');

/** Counts stop here: a backlog is visible without listing all of it every interval. */
export const GAUGE_SATURATION = 10_000;
const PAGE = 1000;

/** Pending jobs due by `now + horizon` (running ones included), in key order, stopping at the first later one. */
export async function countPending(store: ObjectStore, queue: QueueName, horizonSecs: number, now: number): Promise<number> {
  const bound = jobKeys.dueBound(now + horizonSecs * 1000);
  return count(store, jobKeys.pendingPrefix(queue), (storageKey) => storageKey.slice(0, bound.length) <= bound);
}

export async function countFailed(store: ObjectStore, queue: QueueName): Promise<number> {
  return count(store, jobKeys.failedPrefix(queue), () => true);
}

async function count(store: ObjectStore, prefix: string, due: (storageKey: string) => boolean): Promise<number> {
  let total = 0;
  let startAfter: string | undefined;
  do {
    const page = await store.list(prefix, { limit: PAGE, ...(startAfter ? { startAfter } : {}) });
    for (const key of page.keys) {
      const storageKey = jobKeys.storageKeyOf(key);
      if (storageKey === undefined) continue;
      if (!due(storageKey)) return total;
      if (++total >= GAUGE_SATURATION) return GAUGE_SATURATION;
    }
    startAfter = page.next;
  } while (startAfter !== undefined);
  return total;
}

/**
 * Registers the gauges and refreshes them one interval after start, then every interval (a refresh still running
 * when the next is due skips it). A failed count leaves the gauge as it was. Returns the stop function.
 */
export function startJobGauges(store: () => ObjectStore, config: JobQueueConfig): () => void {
  publishJobQueueGauges();
  let running = false;
  const refresh = async () => {
    if (running) return;
    running = true;
    try {
      for (const queue of QUEUES) {
        const metaStore = store();
        await countPending(metaStore, queue, config.pendingReadyHorizonSecs, Date.now()).then(
          (n) => jobQueuePending.set({ queue }, n),
          (err: unknown) => log.warn('could not count pending jobs', { queue, error: (err as Error).message }),
        );
        await countFailed(metaStore, queue).then(
          (n) => jobQueueFailed.set({ queue }, n),
          (err: unknown) => log.warn('could not count failed jobs', { queue, error: (err as Error).message }),
        );
      }
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void refresh(), config.pendingRefreshIntervalSecs * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
