import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteBudget, ConcurrencyLimit } from './concurrency.ts';

const turn = () => new Promise((done) => setImmediate(done));

test('a byte budget lets holders in while their bytes fit, the rest in arrival order as bytes come back', async () => {
  const budget = new ByteBudget(10);
  const order: string[] = [];
  const releaseA = await budget.acquire(6);
  const releaseB = await budget.acquire(4);
  const c = budget.acquire(5).then((release) => (order.push('c'), release));
  const d = budget.acquire(1).then((release) => (order.push('d'), release));
  await turn();
  assert.equal(order.join(' '), '', 'nothing fits: full budget, and a small request does not overtake a waiting one');
  releaseB();
  await turn();
  assert.equal(order.join(' '), '', '4 free, c needs 5');
  releaseA();
  await turn();
  assert.equal(order.join(' '), 'c d');
  (await c)();
  (await d)();
  const whole = await budget.acquire(1000);
  const after = budget.acquire(1).then(() => order.push('after'));
  await turn();
  assert.equal(order.join(' '), 'c d', 'a request above the capacity holds all of it');
  whole();
  whole();
  await after;
  assert.equal(order.join(' '), 'c d after');
});

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
