import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { HaltedError, Pace } from './pace.ts';

/** Runs six instant items; how many had started by the next turn of the event loop, and when each started. */
async function run(pace: Pace): Promise<{ byNextTurn: number; startedMs: number[] }> {
  const at: number[] = [];
  const done = pace.each([1, 2, 3, 4, 5, 6], 8, async () => {
    at.push(performance.now());
  });
  await nextTurn();
  const byNextTurn = at.length;
  await done;
  return { byNextTurn, startedMs: at.map((time) => time - at[0]!) };
}

test('idle, items run at once; while serving, they start one slot (10 ms) apart', async () => {
  assert.equal((await run(new Pace(() => false))).byNextTurn, 6);
  const serving = await run(new Pace(() => true));
  assert.equal(serving.byNextTurn, 1);
  // Five gaps: timers never fire early, so the last start is at least 50 ms after the first.
  assert.ok(serving.startedMs.at(-1)! >= 49, `six items started within ${serving.startedMs.at(-1)} ms while serving`);
});

test('once halted, no item starts and the run rejects', async () => {
  const pace = new Pace(() => false);
  const started: number[] = [];
  const run = pace.each([1, 2, 3, 4], 1, async (item) => {
    started.push(item);
    if (item === 2) pace.halt();
  });
  await assert.rejects(run, HaltedError);
  assert.deepEqual(started, [1, 2]);
});
