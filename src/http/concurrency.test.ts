import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConcurrencyLimit } from './concurrency.ts';

test('a concurrency limit queues in arrival order, lets abandoned waiters leave and frees a slot when its holder closes', async () => {
  const counts = { inUse: 0, waiting: 0 };
  const limit = new ConcurrencyLimit(1, { inUse: (n) => (counts.inUse = n), waiting: (n) => (counts.waiting = n) });
  const [first, gone, third] = [new AbortController(), new AbortController(), new AbortController()];
  assert.equal(await limit.acquire(first.signal), true);
  const order: string[] = [];
  const goneWaits = limit.acquire(gone.signal).then((held) => order.push(`gone:${held}`));
  const thirdWaits = limit.acquire(third.signal).then((held) => order.push(`third:${held}`));
  assert.deepEqual(counts, { inUse: 1, waiting: 2 });
  gone.abort();
  await goneWaits;
  assert.deepEqual(counts, { inUse: 1, waiting: 1 }, 'a waiter that gave up left the queue');
  first.abort();
  await thirdWaits;
  assert.deepEqual(order, ['gone:false', 'third:true']);
  assert.deepEqual(counts, { inUse: 1, waiting: 0 }, 'the slot went to the next waiter');
  third.abort();
  assert.deepEqual(counts, { inUse: 0, waiting: 0 });
  assert.equal(await limit.acquire(AbortSignal.abort()), false, 'an already closed request takes nothing');
  assert.deepEqual(counts, { inUse: 0, waiting: 0 });
});
