import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { test } from 'node:test';
import { jobKeys } from '../registry/keys.ts';
import { JobDrainer } from './drainer.ts';
import { JobStore } from './job-store.ts';
import { DEFAULT_JOB_POLICY } from './queue.ts';
import { tempStore } from './store-fixture.ts';

const nodeBin = join(import.meta.dirname, '../../node_modules/.bin/node');
const child = join(import.meta.dirname, '../../test/support/job-drainer-child.ts');
const TTL_SECS = 3;
const POLL_MS = 50;

test('crash takeover (scenario 12): a SIGKILLed drainer\'s job is left alone while its lease is fresh, then completed by another', async (t) => {
  const { store, rootDir, close } = await tempStore();
  t.after(close);
  const policy = { ...DEFAULT_JOB_POLICY, claimTtlSecs: TTL_SECS };
  await new JobStore(store, () => policy).enqueue('cache', 'test.hang', 'cache.crash', {});

  const first = spawn(nodeBin, [child, rootDir, String(TTL_SECS)], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => first.kill('SIGKILL'));
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    first.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('started cache.crash')) resolve();
    });
    first.once('exit', () => reject(new Error(`the first drainer exited: ${stderr}`)));
  });
  // Let the refresher run at least once (every max(1, floor(3/3)) = 1 s), then kill the holder mid-job.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  first.kill('SIGKILL');
  await once(first, 'exit');
  const lease = JSON.parse((await store.get(jobKeys.claim('cache.crash'))).toString()) as { expires_at: string };
  const expiresAt = Date.parse(lease.expires_at);
  assert.ok(expiresAt > Date.now(), 'the lease is still fresh when the second drainer starts');

  let completedAt = 0;
  const second = new JobDrainer({
    queue: 'cache', concurrency: 1, pollMs: POLL_MS, claimMode: 'atomic', policy: () => policy,
    parts: () => ({ store, handlers: new Map([['test.hang', async () => void (completedAt = Date.now())]]) }),
  });
  second.start();
  t.after(() => second.stop(100));
  const deadline = Date.now() + (TTL_SECS + 5) * 1000;
  while (completedAt === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(completedAt > 0, 'the second drainer completed the job');
  assert.ok(completedAt >= expiresAt, `run ${expiresAt - completedAt} ms before the lease expired`);
  assert.ok(completedAt - expiresAt <= POLL_MS + 1000, `completed ${completedAt - expiresAt} ms after the lease expired`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual((await store.list(jobKeys.pendingPrefix('cache'))).keys, []);
  assert.deepEqual((await store.list(jobKeys.failedPrefix('cache'))).keys, []);
});
