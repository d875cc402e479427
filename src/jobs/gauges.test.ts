import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { jobKeys } from '../registry/keys.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { countFailed, countPending, GAUGE_SATURATION } from './gauges.ts';
import { tempStore } from './store-fixture.ts';

let store: ObjectStore;
let close: () => Promise<void>;
before(async () => ({ store, close } = await tempStore()));
after(() => close());

// Counting reads listings only, so the records are written directly (their content is never read).
async function writeJobs(state: 'pending' | 'failed', dueTimes: number[]): Promise<void> {
  const key = (due: number) => (state === 'pending' ? jobKeys.pending('replication', jobKeys.storageKey(due, randomUUID())) : jobKeys.failed('replication', jobKeys.storageKey(due, randomUUID())));
  for (let i = 0; i < dueTimes.length; i += 200) await Promise.all(dueTimes.slice(i, i + 200).map((due) => store.put(key(due), '{}')));
}

test('pending gauge (scenario 18): 3 ready + 1 due in 2 h with a 600 s horizon counts 3; in-horizon future jobs count', async () => {
  const now = Date.now();
  await writeJobs('pending', [now - 5000, now - 1000, now, now + 2 * 3600_000]);
  assert.equal(await countPending(store, 'replication', 600, now), 3);
  assert.equal(await countPending(store, 'replication', 3 * 3600, now), 4);
  assert.equal(await countPending(store, 'cache', 600, now), 0);
  await store.put(`${jobKeys.pendingPrefix('replication')}/README.txt`, 'not a job');
  assert.equal(await countPending(store, 'replication', 600, now), 3, 'foreign files are not jobs');
  await store.deletePrefix(jobKeys.pendingPrefix('replication'));
});

test(`both gauges saturate at ${GAUGE_SATURATION}: 12 000 jobs read 10 000`, async () => {
  const now = Date.now();
  const times = Array.from({ length: 12_000 }, (_, i) => now - 100_000 + i);
  await writeJobs('pending', times);
  await writeJobs('failed', times);
  assert.equal(await countPending(store, 'replication', 600, now), 10_000);
  assert.equal(await countFailed(store, 'replication'), 10_000);
  await store.deletePrefix('_jobs');
  assert.equal(await countFailed(store, 'replication'), 0);
});
