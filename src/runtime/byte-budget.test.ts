import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteBudget } from './byte-budget.ts';

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
