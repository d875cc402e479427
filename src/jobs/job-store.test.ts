import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { metricsRegistry } from '../observability/metrics.ts';
import { jobKeys } from '../registry/keys.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { JobStore } from './job-store.ts';
import { DEFAULT_JOB_POLICY, type DeadLetter, type JobEnvelope } from './queue.ts';
import { tempStore } from './store-fixture.ts';

let store: ObjectStore;
let close: () => Promise<void>;
before(async () => ({ store, close } = await tempStore()));
after(() => close());

async function keysUnder(prefix: string): Promise<string[]> {
  return (await store.list(prefix, { limit: 100_000 })).keys;
}

async function counter(name: string, labels: Record<string, string>): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric(name)!.get();
  return metric.values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))?.value ?? 0;
}

test('10 concurrent enqueues of one lock key: one job, 1 miss and 9 hits (counted)', async () => {
  const jobs = new JobStore(store, () => DEFAULT_JOB_POLICY);
  const hitsBefore = await counter('angos_job_queue_enqueued_total', { queue: 'cache', dedup: 'hit' });
  const missesBefore = await counter('angos_job_queue_enqueued_total', { queue: 'cache', dedup: 'miss' });
  const results = await Promise.all(Array.from({ length: 10 }, () => jobs.enqueue('cache', 'cache.fetch_blob', 'cache.lib/a:sha256:1', { namespace: 'lib/a' })));
  assert.deepEqual(results.toSorted(), ['hit', 'hit', 'hit', 'hit', 'hit', 'hit', 'hit', 'hit', 'hit', 'miss']);
  const pending = await keysUnder(jobKeys.pendingPrefix('cache'));
  assert.equal(pending.length, 1);
  const envelope = JSON.parse((await store.get(pending[0]!)).toString()) as JobEnvelope;
  assert.equal(envelope.lock_key, 'cache.lib/a:sha256:1');
  assert.equal(envelope.attempts, 0);
  assert.equal(envelope.max_attempts, 5);
  const index = JSON.parse((await store.get(jobKeys.index('cache', 'cache.lib/a:sha256:1'))).toString()) as { storage_key: string };
  assert.equal(`${jobKeys.pendingPrefix('cache')}/${index.storage_key}.json`, pending[0]);
  assert.equal((await counter('angos_job_queue_enqueued_total', { queue: 'cache', dedup: 'hit' })) - hitsBefore, 9);
  assert.equal((await counter('angos_job_queue_enqueued_total', { queue: 'cache', dedup: 'miss' })) - missesBefore, 1);
  await jobs.delete('cache', 'pending', index.storage_key);
  assert.deepEqual(await keysUnder(jobKeys.pendingPrefix('cache')), []);
  await assert.rejects(store.get(jobKeys.index('cache', 'cache.lib/a:sha256:1')), 'deleting a pending job retires its index');
});

test('an index left by a crash (old, no pending record) is retired: the next enqueue is a miss', async () => {
  const jobs = new JobStore(store, () => DEFAULT_JOB_POLICY);
  await store.put(jobKeys.index('cache', 'cache.crashed'), JSON.stringify({ storage_key: jobKeys.storageKey(Date.now() - 60_000, crypto.randomUUID()) }));
  assert.equal(await jobs.enqueue('cache', 'k', 'cache.crashed', {}), 'miss');
  await store.put(jobKeys.index('cache', 'cache.garbled'), 'not json');
  assert.equal(await jobs.enqueue('cache', 'k', 'cache.garbled', {}), 'miss');
  assert.equal(await jobs.enqueue('cache', 'k', 'cache.garbled', {}), 'hit');
  const failuresBefore = await counter('angos_job_queue_enqueue_failures_total', { queue: 'cache' });
  await assert.rejects(jobs.enqueue('cache', 'k', 'bad%key', {}), /no '%'/);
  assert.equal((await counter('angos_job_queue_enqueue_failures_total', { queue: 'cache' })) - failuresBefore, 1);
  for (const { storageKey } of await collect(jobs.walk('cache', 'pending'))) await jobs.delete('cache', 'pending', storageKey);
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

test('admin view: pages of n via next/after, rows as documented, retry resets attempts, missing keys', async () => {
  const jobs = new JobStore(store, () => DEFAULT_JOB_POLICY);
  const storageKeys: string[] = [];
  for (let i = 0; i < 5; i++) {
    const storageKey = jobKeys.storageKey(Date.UTC(2024, 0, 1, 0, 0, i), crypto.randomUUID());
    storageKeys.push(storageKey);
    const dead: DeadLetter = {
      id: jobKeys.parseStorageKey(storageKey)!.id, queue: 'replication', kind: 'replication.push_manifest', lock_key: `replication.push.eu:app:v${i}`,
      created_at: '2024-01-01T00:00:00.000Z', attempts: 5, max_attempts: 5, payload: { namespace: 'app' }, last_error: `boom ${i}`, failed_at: '2024-01-02T00:00:00.000Z',
    };
    await store.put(jobKeys.failed('replication', storageKey), JSON.stringify(dead));
  }
  const first = await jobs.listFailed('replication', 2, undefined);
  assert.deepEqual(first.rows.map((r) => r.storage_key), storageKeys.slice(0, 2));
  assert.equal(first.next, storageKeys[1]);
  assert.deepEqual(first.rows[0], {
    storage_key: storageKeys[0], id: jobKeys.parseStorageKey(storageKeys[0]!)!.id, kind: 'replication.push_manifest', lock_key: 'replication.push.eu:app:v0',
    attempts: 5, max_attempts: 5, created_at: '2024-01-01T00:00:00.000Z', failed_at: '2024-01-02T00:00:00.000Z', last_error: 'boom 0',
  });
  const second = await jobs.listFailed('replication', 2, first.next);
  assert.deepEqual(second.rows.map((r) => r.storage_key), storageKeys.slice(2, 4));
  const last = await jobs.listFailed('replication', 2, second.next);
  assert.deepEqual(last.rows.map((r) => r.storage_key), storageKeys.slice(4));
  assert.equal(last.next, undefined, 'next only when more follow');
  assert.equal((await jobs.listFailed('replication', 5, undefined)).next, undefined);
  assert.deepEqual(await jobs.listFailed('cache', 2, undefined), { rows: [] });

  assert.equal(await jobs.retry('replication', storageKeys[0]!), 'retried');
  assert.equal(await jobs.retry('replication', storageKeys[0]!), 'missing');
  const pending = await jobs.listPending('replication', 10, undefined);
  assert.equal(pending.rows.length, 1);
  const row = pending.rows[0]!;
  assert.equal(row.attempts, 0);
  assert.equal(row.id, jobKeys.parseStorageKey(storageKeys[0]!)!.id);
  assert.ok(Math.abs(Date.parse(row.not_before) - Date.now()) < 5000, 'ready now');
  assert.equal(await jobs.delete('replication', 'pending', row.storage_key), true);
  assert.equal(await jobs.delete('replication', 'pending', row.storage_key), false);
  assert.equal(await jobs.delete('replication', 'failed', storageKeys[1]!), true);
  assert.equal(await jobs.delete('replication', 'failed', storageKeys[1]!), false);
  await store.put(jobKeys.failed('replication', storageKeys[2]!), '{garbled');
  assert.equal(await jobs.retry('replication', storageKeys[2]!), 'unparsable');
  assert.equal(await jobs.delete('replication', 'failed', storageKeys[2]!), true, 'unparsable records are deletable');
  assert.deepEqual((await jobs.listFailed('replication', 10, undefined)).rows.map((r) => r.storage_key), storageKeys.slice(3));
});
