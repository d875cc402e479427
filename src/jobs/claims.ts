// Claims (docs/operations.md, "Job queue"): which drainer runs the job of a lock key. One record per lock key under
// `_jobs/claims/`, created atomically, kept alive by a refresher, taken over once it expires. The claim probe at
// start-up decides between atomic claims and advisory ones for a store whose atomic create cannot be trusted.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { logger } from '../observability/logging.ts';
import { jobKeys } from '../registry/keys.ts';
import { isNotFound, type ObjectStore } from '../storage/object-store.ts';

const log = logger('angos::jobs');

/** `atomic`: create-if-absent decides; `advisory`: write, wait, re-read (a store that never reports a conflict). */
export type ClaimMode = 'atomic' | 'advisory';

interface ClaimRecord {
  instance: string;
  expires_at: string;
}

type ReadClaim = { state: 'missing' } | { state: 'unparsable'; lastModified: Date | undefined } | { state: 'held'; instance: string; expiresAt: number };

/**
 * Creates a scratch key twice, then deletes it: (true, false) is a store with a working atomic create; (true, true)
 * one that never reports conflicts (advisory claims, with a warning). A storage error is thrown: start-up fails.
 */
export async function probeClaimMode(store: ObjectStore): Promise<ClaimMode> {
  const key = jobKeys.probe(randomUUID());
  let first: boolean;
  let second: boolean;
  try {
    first = await store.createIfAbsent(key, 'probe');
    second = await store.createIfAbsent(key, 'probe');
  } catch (err) {
    await store.delete(key).catch(() => {});
    throw err;
  }
  await store.delete(key);
  if (!first) throw new Error(`claim probe: creating the fresh key ${key} reported a conflict`);
  if (!second) return 'atomic';
  log.warn('the metadata store does not report create-if-absent conflicts: job claims are advisory (write, wait, re-read), so two drainers may rarely run one job at once');
  return 'advisory';
}

/** A held claim: `signal` aborts once it is lost. */
export interface Claim {
  readonly lockKey: string;
  readonly signal: AbortSignal;
  /** Whether the claim was lost (expired, deleted or taken over) while held. */
  readonly lost: boolean;
  /** Stops the refresher and deletes the record if it is still this claim's. Never throws. */
  release(): Promise<void>;
}

export interface ClaimOptions {
  readonly mode: ClaimMode;
  readonly ttlSecs: number;
  readonly now?: () => number;
}

/** Tries to claim `lockKey`; undefined when another drainer holds it. Storage errors are thrown. */
export async function acquireClaim(store: ObjectStore, lockKey: string, options: ClaimOptions): Promise<Claim | undefined> {
  const now = options.now ?? Date.now;
  const key = jobKeys.claim(lockKey);
  const instance = randomUUID();
  const record = () => JSON.stringify({ instance, expires_at: new Date(now() + options.ttlSecs * 1000).toISOString() } satisfies ClaimRecord);
  let won: boolean;
  if (options.mode === 'atomic') {
    won = await store.createIfAbsent(key, record());
    if (!won && isStale(await readClaim(store, key), now(), options.ttlSecs)) {
      await store.delete(key);
      won = await store.createIfAbsent(key, record());
    }
  } else {
    const current = await readClaim(store, key);
    if (current.state === 'held' && current.instance !== instance && current.expiresAt >= now()) return undefined;
    await store.put(key, record());
    await sleep(100 + Math.random() * 200);
    const after = await readClaim(store, key);
    won = after.state === 'held' && after.instance === instance;
  }
  return won ? new HeldClaim(store, key, lockKey, instance, options.ttlSecs, now) : undefined;
}

function isStale(claim: ReadClaim, now: number, ttlSecs: number): boolean {
  if (claim.state === 'missing') return true;
  if (claim.state === 'held') return claim.expiresAt < now;
  return claim.lastModified === undefined || now - claim.lastModified.getTime() > 2 * ttlSecs * 1000;
}

async function readClaim(store: ObjectStore, key: string): Promise<ReadClaim> {
  let bytes: Buffer;
  try {
    bytes = await store.get(key);
  } catch (err) {
    if (isNotFound(err)) return { state: 'missing' };
    throw err;
  }
  try {
    const value = JSON.parse(bytes.toString('utf8')) as Partial<ClaimRecord>;
    const expiresAt = typeof value.expires_at === 'string' ? Date.parse(value.expires_at) : NaN;
    if (typeof value.instance === 'string' && Number.isFinite(expiresAt)) return { state: 'held', instance: value.instance, expiresAt };
  } catch {
    // unparsable: judged by its age below
  }
  let lastModified: Date | undefined;
  try {
    lastModified = (await store.head(key)).lastModified;
  } catch (err) {
    if (isNotFound(err)) return { state: 'missing' };
    throw err;
  }
  return { state: 'unparsable', lastModified };
}

class HeldClaim implements Claim {
  readonly lockKey: string;
  readonly #store: ObjectStore;
  readonly #key: string;
  readonly #instance: string;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #abort = new AbortController();
  readonly #timer: NodeJS.Timeout;
  /** The latest `expires_at` this claim wrote or read back: a read error only loses the claim once it has passed. */
  #verifiedUntil: number;
  /** The refresh in progress, if any: release waits for it so that no refresh writes after the release. */
  #refreshing: Promise<void> | undefined;
  #released = false;
  #lost = false;

  constructor(store: ObjectStore, key: string, lockKey: string, instance: string, ttlSecs: number, now: () => number) {
    this.#store = store;
    this.#key = key;
    this.lockKey = lockKey;
    this.#instance = instance;
    this.#ttlMs = ttlSecs * 1000;
    this.#now = now;
    this.#verifiedUntil = now() + this.#ttlMs;
    this.#timer = setInterval(() => this.#tick(), Math.max(1, Math.floor(ttlSecs / 3)) * 1000);
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get lost(): boolean {
    return this.#lost;
  }

  #tick(): void {
    if (this.#refreshing !== undefined || this.#lost || this.#released) return;
    this.#refreshing = this.#refresh().finally(() => (this.#refreshing = undefined));
  }

  async #refresh(): Promise<void> {
    let current: ReadClaim;
    try {
      current = await readClaim(this.#store, this.#key);
    } catch (err) {
      if (this.#now() > this.#verifiedUntil) this.#lose(`the claim could not be read since it expired: ${(err as Error).message}`);
      return;
    }
    if (current.state !== 'held' || current.instance !== this.#instance || current.expiresAt < this.#now()) {
      this.#lose(current.state === 'missing' ? 'the claim record is gone' : current.state === 'unparsable' ? 'the claim record is unparsable' : current.instance !== this.#instance ? 'another drainer holds the claim' : 'the claim expired');
      return;
    }
    this.#verifiedUntil = current.expiresAt;
    if (this.#released) return;
    const expiresAt = this.#now() + this.#ttlMs;
    try {
      await this.#store.put(this.#key, JSON.stringify({ instance: this.#instance, expires_at: new Date(expiresAt).toISOString() } satisfies ClaimRecord));
      this.#verifiedUntil = expiresAt;
    } catch (err) {
      // Retried at the next tick.
      log.debug('could not refresh a job claim', { lock_key: this.lockKey, error: (err as Error).message });
    }
  }

  #lose(reason: string): void {
    this.#lost = true;
    clearInterval(this.#timer);
    this.#abort.abort(new Error(`job claim lost: ${reason}`));
  }

  async release(): Promise<void> {
    clearInterval(this.#timer);
    this.#released = true;
    await this.#refreshing;
    if (this.#lost) return;
    try {
      const current = await readClaim(this.#store, this.#key);
      if (current.state === 'held' && current.instance === this.#instance) await this.#store.delete(this.#key);
    } catch (err) {
      // The record expires on its own.
      log.debug('could not release a job claim', { lock_key: this.lockKey, error: (err as Error).message });
    }
  }
}
