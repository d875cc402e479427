// `angos worker` as a process (docs/operations.md, "Job queue"; spec scenarios 12, 13, 16, 17): one pool per queue,
// SIGTERM exits 0, a hot reload moves the next claims to the new storage while a broken file keeps the old set, and
// a failing claim probe fails the start. The jobs here are of an unknown kind stamped max_attempts = 1: a worker that
// drains one dead-letters it at once, which is what is observed. Crash takeover and in-flight draining are shown on
// JobDrainer itself (src/jobs/crash-takeover.test.ts, drainer.test.ts) and on real cache fills
// (test/e2e/pull-through-worker.test.ts).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jobKeys } from '../../src/registry/keys.ts';
import type { JobEnvelope } from '../../src/jobs/queue.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { openBackend, PASS_BACKEND, type StorageBackend } from '../support/storage-backends.ts';
import { logMessage, startWorker, until } from '../support/worker-process.ts';

/** A job no handler knows, stamped to dead-letter on its first failure. */
async function writeJob(store: ObjectStore, lockKey: string): Promise<void> {
  const job: JobEnvelope = { id: randomUUID(), queue: 'cache', kind: 'test.unknown', lock_key: lockKey, created_at: new Date().toISOString(), attempts: 0, max_attempts: 1, payload: {} };
  await store.put(jobKeys.pending('cache', jobKeys.storageKey(Date.now(), job.id)), JSON.stringify(job));
}

async function deadLettered(store: ObjectStore, lockKey: string): Promise<true | undefined> {
  for (const key of (await store.list(jobKeys.failedPrefix('cache'))).keys) {
    if ((JSON.parse((await store.get(key)).toString()) as JobEnvelope).lock_key === lockKey) return true;
  }
  return undefined;
}

describe(`angos worker (${PASS_BACKEND})`, () => {
  let backend: StorageBackend;
  let dir: string;
  before(async () => {
    backend = await openBackend(PASS_BACKEND);
    dir = await mkdtemp(join(tmpdir(), 'angos-worker-'));
  });
  after(async () => {
    await backend?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function config(place: string, extra = '[global.job_queue]\n'): Promise<string> {
    const path = join(dir, `${randomUUID()}.toml`);
    await writeFile(path, configText(place, extra));
    return path;
  }
  const configText = (place: string, extra = '[global.job_queue]\n') => `[server]\nbind_address = "127.0.0.1"\nport = 0\n${backend.storageToml(place)}\n${extra}`;

  it('repeated --queue replication starts one pool; SIGTERM exits 0 (scenario 16)', async () => {
    const worker = startWorker(await config(`w-${randomUUID().slice(0, 8)}`), ['--queue', 'replication', '--queue', 'replication']);
    const started = await until('the start line', () => worker.logs.find((log) => logMessage(log) === 'Worker started'));
    assert.equal(started.fields.queues, 'replication');
    assert.equal(started.fields.pools, 'replication=4');
    assert.equal(started.fields.claims, 'atomic', 'the claim probe found atomic create');
    const stoppedAt = Date.now();
    assert.equal(await worker.stop(), 0, worker.stderr());
    assert.ok(Date.now() - stoppedAt < 30_000);
    assert.ok(worker.logs.some((log) => logMessage(log) === 'Worker stopped'));
  });

  it('drains the cache queue; a hot reload moves the next claims to the new storage; a broken file keeps the old set (scenario 17)', async () => {
    const first = `w-${randomUUID().slice(0, 8)}`;
    const second = `w-${randomUUID().slice(0, 8)}`;
    const path = await config(first, '[global.job_queue]\n[global]\nmax_concurrent_cache_jobs = 2\n');
    const worker = startWorker(path);
    try {
      const started = await until('the start line', () => worker.logs.find((log) => logMessage(log) === 'Worker started'));
      assert.equal(started.fields.pools, 'cache=2,replication=4');
      const firstStore = backend.store(first);
      const secondStore = backend.store(second);
      await writeJob(firstStore, 'cache.before');
      await until('the first job', () => deadLettered(firstStore, 'cache.before'));
      // The record is stored before the worker logs it.
      const dead = await until('the dead-letter line', () => worker.logs.find((log) => logMessage(log) === 'job dead-lettered'));
      assert.equal(dead.fields.lock_key, 'cache.before');
      assert.equal(dead.fields.error, "unsupported job kind 'test.unknown'");
      assert.ok(worker.logs.some((log) => logMessage(log) === 'job claimed' && log.fields.lock_key === 'cache.before'));

      await writeFile(path, configText(second, '[global.job_queue]\n'));
      await until('the reload', () => worker.logs.find((log) => logMessage(log) === 'Configuration reloaded'));
      await writeJob(secondStore, 'cache.after');
      await until('the job in the new storage', () => deadLettered(secondStore, 'cache.after'));

      await writeFile(path, `${configText(second, '[global.job_queue]\n')}[global]\nmax_concurrent_cache_jobs = "many"\n`);
      await until('the failed reload', () => worker.logs.find((log) => logMessage(log).startsWith('Failed to reload configuration')));
      await writeJob(secondStore, 'cache.kept');
      await until('a job on the kept set', () => deadLettered(secondStore, 'cache.kept'));
    } finally {
      assert.equal(await worker.stop(), 0, worker.stderr());
    }
  });

  it('a claim probe I/O error fails the start (scenario 13)', { skip: PASS_BACKEND !== 'filesystem' && 'a file in the way of a folder is a filesystem fault' }, async () => {
    const place = `w-${randomUUID().slice(0, 8)}`;
    await backend.store(place).put('_jobs/claims', 'in the way');
    const worker = startWorker(await config(place));
    assert.equal(await worker.exited, 1);
    assert.match(worker.stderr(), /Worker error: job queue claim probe failed on the metadata store/);
  });
});
