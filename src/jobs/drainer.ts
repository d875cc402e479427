// Drainers (docs/operations.md, "Job queue"): loops that claim a due job, run its handler and record the outcome.
// The server runs them in-process without [global.job_queue]; `angos worker` runs them with it; both use this.
import { setTimeout as sleep } from 'node:timers/promises';
import { logger } from '../observability/logging.ts';
import { jobKeys } from '../registry/keys.ts';
import { isNotFound, type ObjectStore } from '../storage/object-store.ts';
import { acquireClaim, type Claim, type ClaimMode } from './claims.ts';
import { retryDelayMs, TerminalJobError, type DeadLetter, type JobEnvelope, type JobHandler, type JobPolicy, type QueueName } from './queue.ts';
import { deleteIndexIfAt } from './job-store.ts';
import { encodeIndex, encodeRecord, envelopeOf, parseEnvelope } from './records.ts';

const log = logger('angos::jobs');

/** Pending keys one claim attempt lists. */
const CLAIM_LISTING = 1000;
/** The longest idle sleep unless the poll interval is longer: a job enqueued meanwhile waits at most this. */
const MAX_IDLE_MS = 60_000;
/** After a forced shutdown aborted the running handlers, how long the loops get to unwind. */
const ABORT_SETTLE_MS = 2000;

/** What a claim runs on: taken once per claim, so a reload applies from the next claim and running jobs keep theirs. */
export interface DrainerParts {
  readonly store: ObjectStore;
  readonly handlers: ReadonlyMap<string, JobHandler>;
}

export interface DrainerOptions {
  readonly queue: QueueName;
  /** Claim loops, ≥ 1. */
  readonly concurrency: number;
  /** Minimum idle sleep. */
  readonly pollMs: number;
  readonly claimMode: ClaimMode;
  readonly policy: () => JobPolicy;
  readonly parts: () => DrainerParts;
  readonly now?: () => number;
}

/** A claimed job: the envelope re-read under the claim, and where it is stored. */
interface ClaimedJob {
  readonly job: JobEnvelope;
  readonly storageKey: string;
  readonly claim: Claim;
}

type ClaimAttempt = { claimed: ClaimedJob } | { claimed: undefined; nextReadyMs: number | undefined };

/** `clamp(next_ready − now, poll, max(poll, 60 s))` when a job waits in the future, else `poll`. */
export function idleSleepMs(pollMs: number, nextReadyMs: number | undefined, now: number): number {
  if (nextReadyMs === undefined) return pollMs;
  return Math.min(Math.max(nextReadyMs - now, pollMs), Math.max(pollMs, MAX_IDLE_MS));
}

/**
 * One claim attempt: the first due job (ascending storage key) whose lock key no other drainer holds. Stops at the
 * first job due in the future and reports its time. Storage errors are thrown.
 */
export async function claimNext(store: ObjectStore, queue: QueueName, claimMode: ClaimMode, policy: JobPolicy, now: () => number = Date.now): Promise<ClaimAttempt> {
  const { keys } = await store.list(jobKeys.pendingPrefix(queue), { limit: CLAIM_LISTING });
  for (const key of keys) {
    const storageKey = jobKeys.storageKeyOf(key);
    const due = storageKey === undefined ? undefined : jobKeys.parseStorageKey(storageKey)!.notBeforeMs;
    if (storageKey === undefined || due === undefined) continue;
    if (due > now()) return { claimed: undefined, nextReadyMs: due };
    const first = await readEnvelope(store, key, policy);
    if (first === 'missing') continue;
    if (first === 'unparsable') {
      log.warn('deleting an unparsable pending job record', { queue, storage_key: storageKey });
      await store.delete(key);
      continue;
    }
    const claim = await acquireClaim(store, first.lock_key, { mode: claimMode, ttlSecs: policy.claimTtlSecs, now });
    if (claim === undefined) continue;
    try {
      const job = await readEnvelope(store, key, policy);
      if (typeof job === 'string') {
        await claim.release();
        continue;
      }
      // The index is retired once a job is claimed: an enqueue from now on makes a new job, run after this one.
      await deleteIndexIfAt(store, queue, job.lock_key, storageKey);
      return { claimed: { job, storageKey, claim } };
    } catch (err) {
      await claim.release();
      log.warn('could not prepare a claimed job; skipping it', { queue, lock_key: first.lock_key, error: (err as Error).message });
    }
  }
  return { claimed: undefined, nextReadyMs: undefined };
}

async function readEnvelope(store: ObjectStore, key: string, policy: JobPolicy): Promise<JobEnvelope | 'missing' | 'unparsable'> {
  try {
    return parseEnvelope(await store.get(key), policy.maxAttempts) ?? 'unparsable';
  } catch (err) {
    if (isNotFound(err)) return 'missing';
    throw err;
  }
}

export class JobDrainer {
  readonly #options: DrainerOptions;
  readonly #now: () => number;
  /** Aborted by `stop`: no further claims, idle sleeps end. */
  readonly #stopping = new AbortController();
  /** Aborted when the shutdown grace ran out: running handlers are cancelled. */
  readonly #forced = new AbortController();
  #loops: Array<Promise<void>> = [];

  constructor(options: DrainerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get queue(): QueueName {
    return this.#options.queue;
  }

  start(): void {
    for (let i = 0; i < Math.max(1, this.#options.concurrency); i++) this.#loops.push(this.#loop());
  }

  /**
   * Stops claiming and waits up to `graceMs` for running jobs; then cancels them (their claims lapse or are released,
   * so another drainer runs them again). Resolves with whether every job finished within the grace.
   */
  async stop(graceMs: number): Promise<boolean> {
    this.#stopping.abort();
    const all = Promise.all(this.#loops).then(() => true);
    const finished = await Promise.race([all, sleep(graceMs, false, { ref: false })]);
    if (finished) return true;
    this.#forced.abort(new Error('forced shutdown'));
    await Promise.race([all, sleep(ABORT_SETTLE_MS, false, { ref: false })]);
    return false;
  }

  async #loop(): Promise<void> {
    let storageErrors = 0;
    while (!this.#stopping.signal.aborted) {
      const parts = this.#options.parts();
      const policy = this.#options.policy();
      let attempt: ClaimAttempt;
      try {
        attempt = await claimNext(parts.store, this.#options.queue, this.#options.claimMode, policy, this.#now);
        storageErrors = 0;
      } catch (err) {
        storageErrors++;
        const delay = retryDelayMs(policy, storageErrors);
        log.warn('job store error while claiming; backing off', { queue: this.#options.queue, error: (err as Error).message, retry_in_ms: delay });
        await this.#idle(delay);
        continue;
      }
      if (attempt.claimed === undefined) {
        await this.#idle(idleSleepMs(this.#options.pollMs, attempt.nextReadyMs, this.#now()));
        continue;
      }
      await this.#run(parts, policy, attempt.claimed);
    }
  }

  async #idle(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.#stopping.signal });
    } catch {
      // stopping
    }
  }

  async #run(parts: DrainerParts, policy: JobPolicy, { job, storageKey, claim }: ClaimedJob): Promise<void> {
    const fields = { queue: job.queue, kind: job.kind, lock_key: job.lock_key, storage_key: storageKey, attempt: job.attempts + 1 };
    log.info('job claimed', fields);
    const signal = AbortSignal.any([claim.signal, this.#forced.signal]);
    let error: unknown;
    let failed = false;
    try {
      const handler = parts.handlers.get(job.kind);
      if (handler === undefined) throw new Error(`unsupported job kind '${job.kind}'`);
      await handler(job, signal);
    } catch (err) {
      failed = true;
      error = err;
    }
    try {
      if (claim.lost) {
        log.warn('job claim lost; the job was abandoned and its queue state left alone', { ...fields, reason: (claim.signal.reason as Error | undefined)?.message });
        return;
      }
      if (this.#forced.signal.aborted) {
        log.warn('job cancelled by shutdown; it runs again once its claim is released', fields);
        return;
      }
      if (!failed) {
        try {
          await parts.store.delete(jobKeys.pending(job.queue, storageKey));
          await deleteIndexIfAt(parts.store, job.queue, job.lock_key, storageKey);
          log.info('job succeeded', fields);
          return;
        } catch (err) {
          error = new Error(`complete: cleanup failed: ${(err as Error).message}`);
        }
      }
      await this.#recordFailure(parts.store, policy, job, storageKey, error, fields);
    } catch (err) {
      log.error('could not record a job outcome; it runs again', { ...fields, error: (err as Error).message });
    } finally {
      await claim.release();
    }
  }

  async #recordFailure(store: ObjectStore, policy: JobPolicy, job: JobEnvelope, storageKey: string, error: unknown, fields: Record<string, unknown>): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    const attempts = job.attempts + 1;
    const now = this.#now();
    if (error instanceof TerminalJobError || attempts >= job.max_attempts) {
      const dead: DeadLetter = { ...envelopeOf(job), attempts, last_error: message, failed_at: new Date(now).toISOString() };
      await store.put(jobKeys.failed(job.queue, storageKey), encodeRecord(dead));
      await store.delete(jobKeys.pending(job.queue, storageKey));
      await deleteIndexIfAt(store, job.queue, job.lock_key, storageKey);
      log.error('job dead-lettered', { ...fields, error: message, terminal: error instanceof TerminalJobError, attempts });
      return;
    }
    const notBefore = now + retryDelayMs(policy, attempts);
    const next = jobKeys.storageKey(notBefore, job.id);
    await store.put(jobKeys.pending(job.queue, next), encodeRecord({ ...envelopeOf(job), attempts }));
    await store.delete(jobKeys.pending(job.queue, storageKey));
    await store.createIfAbsent(jobKeys.index(job.queue, job.lock_key), encodeIndex(next));
    log.warn('job failed; retrying', { ...fields, error: message, next_attempt_at: new Date(notBefore).toISOString() });
  }
}
