import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventEmitter } from 'node:events';
import { ConcurrencyLimit } from './concurrency.ts';

/** A response as the limit sees it: closes once. */
class Holder extends EventEmitter {
  closed = false;

  close(): void {
    this.closed = true;
    this.emit('close');
  }
}

test('a concurrency limit queues in arrival order, lets abandoned waiters leave and frees a slot when its holder closes', async () => {
  const counts = { inUse: 0, waiting: 0 };
  const limit = new ConcurrencyLimit(1, { inUse: (n) => (counts.inUse = n), waiting: (n) => (counts.waiting = n) });
  const [first, gone, third] = [new Holder(), new Holder(), new Holder()];
  assert.equal(await limit.acquire(first), true);
  const order: string[] = [];
  const goneWaits = limit.acquire(gone).then((held) => order.push(`gone:${held}`));
  const thirdWaits = limit.acquire(third).then((held) => order.push(`third:${held}`));
  assert.deepEqual(counts, { inUse: 1, waiting: 2 });
  gone.close();
  await goneWaits;
  assert.deepEqual(counts, { inUse: 1, waiting: 1 }, 'a waiter that gave up left the queue');
  first.close();
  await thirdWaits;
  assert.deepEqual(order, ['gone:false', 'third:true']);
  assert.deepEqual(counts, { inUse: 1, waiting: 0 }, 'the slot went to the next waiter');
  third.close();
  assert.deepEqual(counts, { inUse: 0, waiting: 0 });
  const closed = new Holder();
  closed.close();
  assert.equal(await limit.acquire(closed), false, 'an already closed request takes nothing');
  assert.deepEqual(counts, { inUse: 0, waiting: 0 });
});
