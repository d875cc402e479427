import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import { jobKeys } from '../registry/keys.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { JobDrainer, idleSleepMs } from './drainer.ts';
import { JobStore } from './job-store.ts';
import { DEFAULT_JOB_POLICY, TerminalJobError, type DeadLetter, type JobEnvelope, type JobHandler, type JobPolicy } from './queue.ts';
import { tempStore } from './store-fixture.ts';

let store: ObjectStore;
let close: () => Promise<void>;
before(async () => ({ store, close } = await tempStore()));
after(() => close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A started drainer, stopped when the test ends whatever its outcome. */
function drainer(t: TestContext, policy: JobPolicy, handlers: Record<string, JobHandler>, pollMs = 20): JobDrainer {
  const d = new JobDrainer({ queue: 'cache', concurrency: 2, pollMs, claimMode: 'atomic', policy: () => policy, parts: () => ({ store, handlers: new Map(Object.entries(handlers)) }) });
  t.after(() => d.stop(100));
  d.start();
  return d;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function failedRecord(lockKey: string): Promise<DeadLetter | undefined> {
  for (const key of (await store.list(jobKeys.failedPrefix('cache'))).keys) {
    const record = JSON.parse((await store.get(key)).toString()) as DeadLetter;
    if (record.lock_key === lockKey) return record;
  }
  return undefined;
}

test('idle sleep (scenario 15): clamp(next_ready - now, poll, max(poll, 60 s)), else poll', () => {
  const now = 1_000_000;
  assert.equal(idleSleepMs(1000, undefined, now), 1000);
  assert.equal(idleSleepMs(1000, now + 40_000, now), 40_000, 'a job due in 40 s: one ~40 s sleep');
  assert.equal(idleSleepMs(1000, now + 600_000, now), 60_000, 'due in 10 min: 60 s');
  assert.equal(idleSleepMs(120_000, now + 600_000, now), 120_000, 'poll 2 min: 2 min');
  assert.equal(idleSleepMs(120_000, now + 40_000, now), 120_000);
  assert.equal(idleSleepMs(1000, now + 200, now), 1000, 'never below poll');
});

test('success deletes the pending record; the index is retired at claim; an unknown kind fails as unsupported', async (t) => {
  const policy = { ...DEFAULT_JOB_POLICY, maxAttempts: 1 };
  const jobs = new JobStore(store, () => policy);
  const seen: JobEnvelope[] = [];
  const d = drainer(t, policy, { 'test.ok': async (job) => void seen.push(job) });
  assert.equal(await jobs.enqueue('cache', 'test.ok', 'cache.ok', { n: 1 }), 'miss');
  assert.equal(await jobs.enqueue('cache', 'test.nope', 'cache.nope', {}), 'miss');
  await until('the job to run', async () => (seen.length === 1 ? true : undefined));
  const dead = await until('the unsupported job to dead-letter', () => failedRecord('cache.nope'));
  assert.equal(dead.last_error, "unsupported job kind 'test.nope'");
  assert.equal(dead.attempts, 1);
  assert.equal(await d.stop(1000), true);
  assert.deepEqual(seen[0]!.payload, { n: 1 });
  assert.deepEqual((await store.list(jobKeys.pendingPrefix('cache'))).keys, []);
  assert.deepEqual((await store.list('_jobs/index')).keys, []);
  assert.deepEqual((await store.list('_jobs/claims')).keys, []);
  await jobs.delete('cache', 'failed', (await jobs.listFailed('cache', 10, undefined)).rows[0]!.storage_key);
});

test('backoff (scenario 11): retries ~200/400/800/1600 ms out, the 5th failure dead-letters with last_error and failed_at', async (t) => {
  const jobs = new JobStore(store, () => DEFAULT_JOB_POLICY);
  const runs: number[] = [];
  const dueTimes: number[] = [];
  const d = drainer(t, DEFAULT_JOB_POLICY, {
    'test.fail': async () => {
      runs.push(Date.now());
      throw new Error(`failure ${runs.length}`);
    },
  });
  const watch = setInterval(() => {
    void store.list(jobKeys.pendingPrefix('cache')).then(({ keys }) => {
      const due = keys.map((key) => jobKeys.parseStorageKey(jobKeys.storageKeyOf(key)!)!.notBeforeMs)[0];
      if (due !== undefined && due !== dueTimes.at(-1)) dueTimes.push(due);
    });
  }, 10);
  await jobs.enqueue('cache', 'test.fail', 'cache.backoff', {});
  const dead = await until('the dead letter', () => failedRecord('cache.backoff'));
  clearInterval(watch);
  await d.stop(1000);
  assert.equal(runs.length, 5);
  assert.equal(dead.attempts, 5, 'attempts counts failed executions');
  assert.equal(dead.max_attempts, 5);
  assert.equal(dead.last_error, 'failure 5');
  assert.ok(Math.abs(Date.parse(dead.failed_at) - runs[4]!) < 1000);
  // Each retry's key prefix is its not_before: the failure time plus the delay.
  const retryDue = dueTimes.slice(1);
  assert.equal(retryDue.length, 4);
  [200, 400, 800, 1600].forEach((delay, i) => {
    assert.ok(Math.abs(retryDue[i]! - runs[i]! - delay) < 100, `retry ${i + 1} due ${retryDue[i]! - runs[i]!} ms after the failure, expected ${delay}`);
    const gap = runs[i + 1]! - runs[i]!;
    assert.ok(gap >= delay - 5 && gap < delay + 400, `run ${i + 2} ${gap} ms after run ${i + 1}, expected ~${delay}`);
  });
  assert.deepEqual((await store.list(jobKeys.pendingPrefix('cache'))).keys, []);
  await jobs.delete('cache', 'failed', (await jobs.listFailed('cache', 10, undefined)).rows[0]!.storage_key);
});

test('max_attempts = 2, min 1000, max 1500: one retry after 1.5 s, then the dead letter; terminal errors dead-letter at once', async (t) => {
  const policy: JobPolicy = { ...DEFAULT_JOB_POLICY, maxAttempts: 2, retryBackoffMinMs: 1000, retryBackoffMaxMs: 1500 };
  const jobs = new JobStore(store, () => policy);
  const runs: number[] = [];
  let terminalRuns = 0;
  const d = drainer(t, policy, {
    'test.fail': async () => {
      runs.push(Date.now());
      throw new Error('nope');
    },
    'test.terminal': async () => {
      terminalRuns++;
      throw new TerminalJobError('403 from every upstream');
    },
  });
  await jobs.enqueue('cache', 'test.fail', 'cache.capped', {});
  await jobs.enqueue('cache', 'test.terminal', 'cache.terminal', {});
  const terminal = await until('the terminal dead letter', () => failedRecord('cache.terminal'));
  assert.equal(terminal.last_error, '403 from every upstream');
  const dead = await until('the dead letter', () => failedRecord('cache.capped'));
  await d.stop(1000);
  assert.equal(terminalRuns, 1);
  assert.equal(runs.length, 2);
  const gap = runs[1]! - runs[0]!;
  assert.ok(gap >= 1495 && gap < 2000, `retry after ${gap} ms`);
  assert.equal(dead.attempts, 2);
  for (const row of (await jobs.listFailed('cache', 10, undefined)).rows) await jobs.delete('cache', 'failed', row.storage_key);
});

test('lease loss (scenario 12): deleting the claim aborts the handler within one refresh period; no queue state is written', async (t) => {
  const policy: JobPolicy = { ...DEFAULT_JOB_POLICY, claimTtlSecs: 3 };
  const jobs = new JobStore(store, () => policy);
  let started: (() => void) | undefined;
  const running = new Promise<void>((resolve) => (started = resolve));
  let abortedAt = 0;
  await jobs.enqueue('cache', 'test.slow', 'cache.lease', {});
  const before = (await store.list(jobKeys.pendingPrefix('cache'))).keys;
  const envelope = (await store.get(before[0]!)).toString();
  const d = drainer(t, policy, {
    'test.slow': (_job, signal) =>
      new Promise((_resolve, reject) => {
        started!();
        signal.addEventListener('abort', () => ((abortedAt = Date.now()), reject(signal.reason as Error)), { once: true });
      }),
  });
  await running;
  const deletedAt = Date.now();
  await store.delete(jobKeys.claim('cache.lease'));
  await until('the abort', async () => (abortedAt > 0 ? true : undefined));
  assert.ok(abortedAt - deletedAt <= 1200, `aborted ${abortedAt - deletedAt} ms after the claim was deleted`);
  // The loop goes on: the same job is due again and is claimed anew; stop before judging the records.
  await d.stop(100);
  assert.deepEqual((await store.list(jobKeys.failedPrefix('cache'))).keys, []);
  const after = (await store.list(jobKeys.pendingPrefix('cache'))).keys;
  assert.deepEqual(after, before, 'no retry key was written');
  assert.equal((await store.get(after[0]!)).toString(), envelope, 'attempts unchanged');
  await store.delete(after[0]!);
  await store.delete(jobKeys.claim('cache.lease'));
});

test('stop: no new claims, a running job finishes within the grace; past it the handler is cancelled and nothing is written', async (t) => {
  const jobs = new JobStore(store, () => DEFAULT_JOB_POLICY);
  let finished = 0;
  let cancelled = 0;
  const d = drainer(t, DEFAULT_JOB_POLICY, {
    'test.short': async () => {
      await sleep(300);
      finished++;
    },
  });
  await jobs.enqueue('cache', 'test.short', 'cache.short', {});
  await until('the job to start', async () => ((await store.list('_jobs/claims')).keys.length > 0 ? true : undefined));
  assert.equal(await d.stop(5000), true, 'the running job finished within the grace');
  assert.equal(finished, 1);
  await jobs.enqueue('cache', 'test.short', 'cache.after-stop', {});
  await sleep(200);
  assert.equal(finished, 1, 'a stopped drainer claims nothing');
  await jobs.delete('cache', 'pending', (await jobs.listPending('cache', 10, undefined)).rows[0]!.storage_key);

  const stuck = drainer(t, DEFAULT_JOB_POLICY, {
    'test.stuck': (_job, signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => (cancelled++, reject(signal.reason as Error)), { once: true })),
  });
  await jobs.enqueue('cache', 'test.stuck', 'cache.stuck', {});
  const before = await until('the stuck job to start', async () => ((await store.list('_jobs/claims')).keys.length > 0 ? (await store.list(jobKeys.pendingPrefix('cache'))).keys : undefined));
  assert.equal(await stuck.stop(200), false, 'the grace ran out');
  assert.equal(cancelled, 1);
  assert.deepEqual((await store.list(jobKeys.pendingPrefix('cache'))).keys, before, 'the job stays pending for another drainer');
  assert.deepEqual((await store.list(jobKeys.failedPrefix('cache'))).keys, []);
  assert.deepEqual((await store.list('_jobs/claims')).keys, [], 'its claim was released');
  await store.delete(before[0]!);
});
