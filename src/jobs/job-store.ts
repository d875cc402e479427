// The queue's records on the metadata store (docs/operations.md, "Job queue"): enqueue with coalescing, and the
// admin view (list, retry, delete) the HTTP layer serves under /v2/_angos/jobs/. Claiming and running are in
// `drainer.ts`; both work on the same layout (`jobKeys`, src/registry/keys.ts).
import { jobQueueEnqueuedTotal, jobQueueEnqueueFailuresTotal } from '../observability/metrics.ts';
import { jobKeys } from '../registry/keys.ts';
import { isNotFound, type ObjectStore } from '../storage/object-store.ts';
import type { JobEnvelope, JobPolicy, JobQueue, QueueName } from './queue.ts';
import { encodeIndex, encodeRecord, envelopeOf, newEnvelope, parseDeadLetter, parseEnvelope, parseIndex } from './records.ts';

/**
 * An index entry younger than this whose pending record is missing belongs to an enqueue between its two creates:
 * joining it (a hit) instead of retiring it keeps concurrent misses of one blob to one job. An older one is left over
 * from a crash and is retired as the chapter says.
 */
const ENQUEUE_IN_PROGRESS_MS = 5000;
/** Keys read per listing page. */
const PAGE = 1000;

export interface PendingRow {
  storage_key: string;
  id: string;
  kind: string;
  lock_key: string;
  attempts: number;
  max_attempts: number;
  created_at: string;
  not_before: string;
}

export interface FailedRow extends Omit<PendingRow, 'not_before'> {
  failed_at: string;
  last_error: string;
}

export interface JobPage<Row> {
  rows: Row[];
  /** The last row's storage key, set only when more rows follow: pass it back as `after`. */
  next?: string;
}

/** What the admin API needs of the queue. */
export interface JobAdmin {
  listPending(queue: QueueName, n: number, after: string | undefined): Promise<JobPage<PendingRow>>;
  listFailed(queue: QueueName, n: number, after: string | undefined): Promise<JobPage<FailedRow>>;
  /** Requeues a dead letter as ready now with `attempts = 0`; `missing` when there is no such record. */
  retry(queue: QueueName, storageKey: string): Promise<'retried' | 'missing' | 'unparsable'>;
  /** Deletes a pending (best effort: a running job may still commit) or failed record; false when absent. */
  delete(queue: QueueName, state: 'pending' | 'failed', storageKey: string): Promise<boolean>;
}

/** One record of a queue folder, as read by a walk over it. */
export interface StoredJob<T> {
  storageKey: string;
  /** Undefined when the record does not parse. */
  record: T | undefined;
}

export class JobStore implements JobQueue, JobAdmin {
  readonly #store: ObjectStore;
  readonly #policy: () => JobPolicy;
  readonly #now: () => number;

  constructor(store: ObjectStore, policy: () => JobPolicy, now: () => number = Date.now) {
    this.#store = store;
    this.#policy = policy;
    this.#now = now;
  }

  async enqueue(queue: QueueName, kind: string, lockKey: string, payload: Record<string, unknown>): Promise<'hit' | 'miss'> {
    try {
      const dedup = await this.#enqueue(queue, kind, lockKey, payload);
      jobQueueEnqueuedTotal.inc({ queue, dedup });
      return dedup;
    } catch (err) {
      jobQueueEnqueueFailuresTotal.inc({ queue });
      throw err;
    }
  }

  async #enqueue(queue: QueueName, kind: string, lockKey: string, payload: Record<string, unknown>): Promise<'hit' | 'miss'> {
    const now = this.#now();
    const envelope = newEnvelope(queue, kind, lockKey, payload, this.#policy().maxAttempts, now);
    const indexKey = jobKeys.index(queue, lockKey);
    const indexed = await this.#readOptional(indexKey);
    if (indexed !== undefined) {
      const storageKey = parseIndex(indexed);
      if (storageKey !== undefined && (await this.#exists(jobKeys.pending(queue, storageKey)))) return 'hit';
      const createdAt = storageKey === undefined ? undefined : jobKeys.parseStorageKey(storageKey)?.notBeforeMs;
      if (createdAt !== undefined && Math.abs(now - createdAt) < ENQUEUE_IN_PROGRESS_MS) return 'hit';
      await this.#store.delete(indexKey);
    }
    const storageKey = jobKeys.storageKey(now, envelope.id);
    if (!(await this.#store.createIfAbsent(indexKey, encodeIndex(storageKey)))) return 'hit';
    await this.#store.createIfAbsent(jobKeys.pending(queue, storageKey), encodeRecord(envelope));
    return 'miss';
  }

  async listPending(queue: QueueName, n: number, after: string | undefined): Promise<JobPage<PendingRow>> {
    return this.#page(jobKeys.pendingPrefix(queue), n, after, (storageKey, bytes) => {
      const job = parseEnvelope(bytes, this.#policy().maxAttempts);
      if (job === undefined) return undefined;
      const notBefore = jobKeys.parseStorageKey(storageKey)?.notBeforeMs;
      return { storage_key: storageKey, ...summary(job), not_before: notBefore === undefined ? job.created_at : new Date(notBefore).toISOString() };
    });
  }

  async listFailed(queue: QueueName, n: number, after: string | undefined): Promise<JobPage<FailedRow>> {
    return this.#page(jobKeys.failedPrefix(queue), n, after, (storageKey, bytes) => {
      const job = parseDeadLetter(bytes, this.#policy().maxAttempts);
      if (job === undefined) return undefined;
      return { storage_key: storageKey, ...summary(job), failed_at: job.failed_at, last_error: job.last_error };
    });
  }

  async retry(queue: QueueName, storageKey: string): Promise<'retried' | 'missing' | 'unparsable'> {
    const failedKey = jobKeys.failed(queue, storageKey);
    const bytes = await this.#readOptional(failedKey);
    if (bytes === undefined) return 'missing';
    const job = parseDeadLetter(bytes, this.#policy().maxAttempts);
    if (job === undefined) return 'unparsable';
    // No index: the job does not coalesce with new enqueues, but claims still run one job per lock key at a time.
    const requeued: JobEnvelope = { ...envelopeOf(job), attempts: 0 };
    await this.#store.createIfAbsent(jobKeys.pending(queue, jobKeys.storageKey(this.#now(), job.id)), encodeRecord(requeued));
    await this.#store.delete(failedKey);
    return 'retried';
  }

  async delete(queue: QueueName, state: 'pending' | 'failed', storageKey: string): Promise<boolean> {
    const key = state === 'pending' ? jobKeys.pending(queue, storageKey) : jobKeys.failed(queue, storageKey);
    const bytes = await this.#readOptional(key);
    if (bytes === undefined) return false;
    await this.#store.delete(key);
    if (state === 'pending') {
      const job = parseEnvelope(bytes, 0);
      if (job !== undefined) await deleteIndexIfAt(this.#store, queue, job.lock_key, storageKey);
    }
    return true;
  }

  /** Every record of a queue folder in storage-key order (the orphan sweep of scrub); unparsable ones included. */
  async *walk(queue: QueueName, state: 'pending' | 'failed'): AsyncGenerator<StoredJob<JobEnvelope>> {
    const prefix = state === 'pending' ? jobKeys.pendingPrefix(queue) : jobKeys.failedPrefix(queue);
    let startAfter: string | undefined;
    do {
      const page = await this.#store.list(prefix, { limit: PAGE, ...(startAfter ? { startAfter } : {}) });
      for (const key of page.keys) {
        const storageKey = jobKeys.storageKeyOf(key);
        if (storageKey === undefined) continue;
        const bytes = await this.#readOptional(key);
        if (bytes === undefined) continue;
        yield { storageKey, record: parseEnvelope(bytes, this.#policy().maxAttempts) };
      }
      startAfter = page.next;
    } while (startAfter !== undefined);
  }

  async #page<Row extends { storage_key: string }>(prefix: string, n: number, after: string | undefined, row: (storageKey: string, bytes: Buffer) => Row | undefined): Promise<JobPage<Row>> {
    const rows: Row[] = [];
    let startAfter = after === undefined ? undefined : `${prefix}/${after}.json`;
    let more = false;
    listing: for (;;) {
      const page = await this.#store.list(prefix, { limit: Math.min(PAGE, n - rows.length + 1), ...(startAfter ? { startAfter } : {}) });
      for (const key of page.keys) {
        if (rows.length === n) {
          more = true;
          break listing;
        }
        startAfter = key;
        const storageKey = jobKeys.storageKeyOf(key);
        // Vanished rows (claimed and finished since the listing) are skipped.
        const bytes = storageKey === undefined ? undefined : await this.#readOptional(key);
        const value = bytes === undefined ? undefined : row(storageKey!, bytes);
        if (value !== undefined) rows.push(value);
      }
      if (page.next === undefined) break;
      startAfter = page.next;
    }
    const last = rows.at(-1);
    return more && last !== undefined ? { rows, next: last.storage_key } : { rows };
  }

  async #readOptional(key: string): Promise<Buffer | undefined> {
    try {
      return await this.#store.get(key);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async #exists(key: string): Promise<boolean> {
    return (await this.#readOptional(key)) !== undefined;
  }
}

function summary(job: JobEnvelope): Pick<PendingRow, 'id' | 'kind' | 'lock_key' | 'attempts' | 'max_attempts' | 'created_at'> {
  return { id: job.id, kind: job.kind, lock_key: job.lock_key, attempts: job.attempts, max_attempts: job.max_attempts, created_at: job.created_at };
}

/** Retires the index of `lockKey` when it names `storageKey` (or cannot be read as naming anything). */
export async function deleteIndexIfAt(store: ObjectStore, queue: QueueName, lockKey: string, storageKey: string): Promise<void> {
  const key = jobKeys.index(queue, lockKey);
  let bytes: Buffer;
  try {
    bytes = await store.get(key);
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  const indexed = parseIndex(bytes);
  if (indexed === undefined || indexed === storageKey) await store.delete(key);
}

