// The durable job queue as a server shows it (docs/operations.md, "Job queue"): the admin API (scenario 19), the
// queue gauges of a server with [global.job_queue] (scenario 18), and `scrub --cache-orphans` / `--replication-orphans`
// (scenario 29). Records are written straight to the metadata store, as a server's enqueue or a worker's dead letter
// would leave them. Runs on the pass's backend (filesystem, or S3 on the test gateway).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { JobStore } from '../../src/jobs/job-store.ts';
import { DEFAULT_JOB_POLICY, type DeadLetter, type JobEnvelope, type QueueName } from '../../src/jobs/queue.ts';
import { jobKeys } from '../../src/registry/keys.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { runCli, type CliResult } from '../cli/cli-process.ts';
import { registryToml } from '../support/config.ts';
import { expectError, expectStatus } from '../support/expect.ts';
import { jsonBody, request, send } from '../support/http.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { openBackend, PASS_BACKEND, type StorageBackend } from '../support/storage-backends.ts';

const JOB_QUEUE = '[global.job_queue]\npending_refresh_interval_secs = 5\n';
const messages = (result: CliResult) => result.logs.map((log) => String(log.fields.message));

function deadLetter(queue: QueueName, lockKey: string, payload: Record<string, unknown>, failedAgo = 0): { storageKey: string; record: DeadLetter } {
  const id = randomUUID();
  const storageKey = jobKeys.storageKey(Date.now() - 60_000 + failedAgo, id);
  const kind = queue === 'cache' ? 'cache.fetch_blob' : 'replication.push_manifest';
  return {
    storageKey,
    record: { id, queue, kind, lock_key: lockKey, created_at: new Date().toISOString(), attempts: 5, max_attempts: 5, payload, last_error: 'upstream answered 500', failed_at: new Date().toISOString() },
  };
}

describe(`job queue: admin API, gauges, orphan sweeps (${PASS_BACKEND})`, () => {
  let backend: StorageBackend;
  before(async () => (backend = await openBackend(PASS_BACKEND)));
  const stops: Array<() => Promise<unknown>> = [];
  after(async () => {
    await Promise.all(stops.map((stop) => stop()));
    await backend?.close();
  });

  async function place(extra: string): Promise<{ srv: RunningServer; store: ObjectStore; jobs: JobStore; name: string }> {
    const name = `jobs-${randomUUID().slice(0, 8)}`;
    const srv = await startServer({ rootDir: backend.rootDir(name), storageToml: backend.storageToml(name), extraToml: registryToml({ extra }) });
    stops.push(() => srv.stop());
    const store = backend.store(name);
    return { srv, store, jobs: new JobStore(store, () => DEFAULT_JOB_POLICY), name };
  }

  it('admin API (scenario 19): n=2 pages via next/after; ?queue=bogus GET 404, POST/DELETE 400; retry 204 with attempts 0; missing key 404', async () => {
    // With [global.job_queue] the server only enqueues: nothing drains what this test writes.
    const { srv, store } = await place(JOB_QUEUE);
    const letters = [0, 1, 2, 3, 4].map((i) => deadLetter('replication', `replication.push.eu:app:v${i}`, { namespace: 'app', downstream: 'eu' }, i));
    for (const { storageKey, record } of letters) await store.put(jobKeys.failed('replication', storageKey), JSON.stringify(record));
    const seen: string[] = [];
    let path = '/v2/_angos/jobs/failed?queue=replication&n=2';
    for (;;) {
      const page = jsonBody(await request(srv.url, path)) as { failed: Array<Record<string, unknown>>; next?: string };
      assert.ok(page.failed.length <= 2);
      seen.push(...page.failed.map((row) => String(row.storage_key)));
      if (page.next === undefined) break;
      assert.equal(page.next, seen.at(-1));
      path = `/v2/_angos/jobs/failed?queue=replication&n=2&after=${page.next}`;
    }
    assert.deepEqual(seen, letters.map((l) => l.storageKey));
    const [row] = (jsonBody(await request(srv.url, '/v2/_angos/jobs/failed?queue=replication&n=1')) as { failed: Array<Record<string, unknown>> }).failed;
    assert.deepEqual(Object.keys(row!).sort(), ['attempts', 'created_at', 'failed_at', 'id', 'kind', 'last_error', 'lock_key', 'max_attempts', 'storage_key']);
    assert.equal(row!.attempts, 5);
    assert.deepEqual(jsonBody(await request(srv.url, '/v2/_angos/jobs/failed')), { failed: [] }, 'the cache queue is the default');

    expectError(await request(srv.url, '/v2/_angos/jobs/failed?queue=bogus'), 404, 'NAME_UNKNOWN');
    expectError(await request(srv.url, '/v2/_angos/jobs/list?queue=bogus'), 404, 'NAME_UNKNOWN');
    expectError(await send(srv.url, 'POST', `/v2/_angos/jobs/failed?queue=bogus&key=${letters[0]!.storageKey}`), 400, 'UNSUPPORTED');
    expectError(await send(srv.url, 'DELETE', `/v2/_angos/jobs/pending?queue=bogus&key=${letters[0]!.storageKey}`), 400, 'UNSUPPORTED');
    expectError(await send(srv.url, 'POST', `/v2/_angos/jobs/failed?key=${letters[0]!.storageKey}`), 404, 'NAME_UNKNOWN'); // another queue's key is missing here

    expectStatus(await send(srv.url, 'POST', `/v2/_angos/jobs/failed?queue=replication&key=${letters[0]!.storageKey}`), 204);
    expectError(await send(srv.url, 'POST', `/v2/_angos/jobs/failed?queue=replication&key=${letters[0]!.storageKey}`), 404, 'NAME_UNKNOWN');
    const pending = jsonBody(await request(srv.url, '/v2/_angos/jobs/list?queue=replication')) as { jobs: Array<Record<string, unknown>> };
    assert.equal(pending.jobs.length, 1);
    assert.equal(pending.jobs[0]!.attempts, 0);
    assert.equal(pending.jobs[0]!.id, letters[0]!.record.id);
    assert.equal(pending.jobs[0]!.lock_key, 'replication.push.eu:app:v0');
    assert.ok(Math.abs(Date.parse(String(pending.jobs[0]!.not_before)) - Date.now()) < 60_000);

    const pendingKey = String(pending.jobs[0]!.storage_key);
    expectStatus(await send(srv.url, 'DELETE', `/v2/_angos/jobs/pending?queue=replication&key=${pendingKey}`), 204);
    expectError(await send(srv.url, 'DELETE', `/v2/_angos/jobs/pending?queue=replication&key=${pendingKey}`), 404, 'NAME_UNKNOWN');
    expectStatus(await send(srv.url, 'DELETE', `/v2/_angos/jobs/failed?queue=replication&key=${letters[1]!.storageKey}`), 204);
    expectError(await send(srv.url, 'DELETE', `/v2/_angos/jobs/failed?queue=replication&key=${letters[1]!.storageKey}`), 404, 'NAME_UNKNOWN');
    const left = jsonBody(await request(srv.url, '/v2/_angos/jobs/failed?queue=replication')) as { failed: Array<{ storage_key: string }> };
    assert.deepEqual(left.failed.map((r) => r.storage_key), letters.slice(2).map((l) => l.storageKey));
  });

  it('gauges (scenario 18): with [global.job_queue] pending counts due jobs after one interval; failed counts dead letters; /readyz unaffected', async () => {
    const { srv, store, jobs } = await place(JOB_QUEUE);
    for (const lock of ['cache.a:1', 'cache.b:2', 'cache.c:3']) await jobs.enqueue('cache', 'cache.fetch_blob', lock, { namespace: 'a' });
    const later = { id: randomUUID(), queue: 'cache', kind: 'cache.fetch_blob', lock_key: 'cache.later', created_at: new Date().toISOString(), attempts: 1, max_attempts: 5, payload: {} } satisfies JobEnvelope;
    await store.put(jobKeys.pending('cache', jobKeys.storageKey(Date.now() + 2 * 3600_000, later.id)), JSON.stringify(later));
    const letter = deadLetter('replication', 'replication.push.eu:a:v1', { namespace: 'a', downstream: 'eu' });
    await store.put(jobKeys.failed('replication', letter.storageKey), JSON.stringify(letter.record));
    const sample = (text: string, name: string, queue: string) => new RegExp(`^${name}\\{queue="${queue}"\\} (\\d+)$`, 'm').exec(text)?.[1];
    const deadline = performance.now() + 15_000;
    let metrics = '';
    while (performance.now() < deadline) {
      metrics = (await request(srv.url, '/metrics')).body.toString();
      // Each series is set as its listing finishes (on S3, a round trip each): wait for all four.
      const series = [['pending', 'cache'], ['pending', 'replication'], ['failed', 'cache'], ['failed', 'replication']] as const;
      if (series.every(([gauge, queue]) => sample(metrics, `angos_job_queue_${gauge}`, queue) !== undefined)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(sample(metrics, 'angos_job_queue_pending', 'cache'), '3', metrics);
    assert.equal(sample(metrics, 'angos_job_queue_pending', 'replication'), '0');
    assert.equal(sample(metrics, 'angos_job_queue_failed', 'replication'), '1');
    assert.equal(sample(metrics, 'angos_job_queue_failed', 'cache'), '0');
    expectStatus(await request(srv.url, '/readyz'), 200);
  });

  it('without [global.job_queue] the server drains in-process and publishes no gauges', async () => {
    const { srv, jobs } = await place('');
    // No handler for this kind: the in-process drainer fails it (`unsupported job kind`) and retries with backoff.
    await jobs.enqueue('cache', 'cache.nonexistent_kind', 'cache.inproc', {});
    const deadline = performance.now() + 10_000;
    let rows: Array<Record<string, unknown>> = [];
    while (performance.now() < deadline) {
      rows = (jsonBody(await request(srv.url, '/v2/_angos/jobs/list')) as { jobs: Array<Record<string, unknown>> }).jobs;
      // The retry is stored before the drainer logs it.
      const logged = srv.logs.some((log) => (log.fields as Record<string, unknown>).error === "unsupported job kind 'cache.nonexistent_kind'");
      if (rows.length === 1 && Number(rows[0]!.attempts) >= 1 && logged) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(Number(rows[0]!.attempts) >= 1, 'the in-process drainer ran the job');
    assert.ok(srv.logs.some((log) => (log.fields as Record<string, unknown>).error === "unsupported job kind 'cache.nonexistent_kind'"));
    const metrics = (await request(srv.url, '/metrics')).body.toString();
    assert.doesNotMatch(metrics, /^angos_job_queue_pending/m);
    assert.doesNotMatch(metrics, /^angos_job_queue_failed/m);
    await jobs.delete('cache', 'pending', String(rows[0]!.storage_key)).catch(() => false);
  });

  it('scrub --cache-orphans and --replication-orphans (scenario 29): --dry-run only lists; undecodable payloads are kept', async () => {
    const repositories =
      `${JOB_QUEUE}[repository."hub"]\n[[repository."hub".upstream]]\nurl = "https://registry-1.docker.io"\n` +
      `[repository."local"]\n[repository."apps"]\n[[repository."apps".downstream]]\nname = "eu2"\nurl = "https://eu.example"\n`;
    const { srv, store, jobs } = await place(repositories);
    await jobs.enqueue('cache', 'cache.fetch_blob', 'cache.hub/lib/a:sha256:1', { namespace: 'hub/lib/a', digest: 'sha256:1' });
    await jobs.enqueue('cache', 'cache.fetch_blob', 'cache.local/a:sha256:1', { namespace: 'local/a', digest: 'sha256:1' });
    await jobs.enqueue('cache', 'cache.fetch_blob', 'cache.gone/a:sha256:1', { namespace: 'gone/a', digest: 'sha256:1' });
    await jobs.enqueue('cache', 'cache.fetch_blob', 'cache.undecodable', { digest: 'sha256:1' });
    const orphanLetter = deadLetter('cache', 'cache.local/b:sha256:2', { namespace: 'local/b' });
    await store.put(jobKeys.failed('cache', orphanLetter.storageKey), JSON.stringify(orphanLetter.record));
    await jobs.enqueue('replication', 'replication.push_manifest', 'replication.push.eu:apps/x:v1', { namespace: 'apps/x', downstream: 'eu', tag: 'v1' });
    await jobs.enqueue('replication', 'replication.push_manifest', 'replication.push.eu2:apps/x:v1', { namespace: 'apps/x', downstream: 'eu2', tag: 'v1' });
    await jobs.enqueue('replication', 'replication.push_manifest', 'replication.push.eu2:other:v1', { namespace: 'other', downstream: 'eu2', tag: 'v1' });
    const lockKeys = async (queue: QueueName) => {
      const keys: string[] = [];
      for (const state of ['pending', 'failed'] as const) for await (const { record } of jobs.walk(queue, state)) keys.push(record!.lock_key);
      return keys.sort();
    };
    const cacheBefore = await lockKeys('cache');
    const replicationBefore = await lockKeys('replication');
    const scrub = (...args: string[]) => runCli(['-c', srv.configPath, 'scrub', ...args], { cwd: backend.rootDir('.'), rustLog: 'info' });

    const dry = await scrub('--cache-orphans', '--replication-orphans', '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    const previewed = messages(dry).filter((m) => m.startsWith('DRY RUN: would delete orphaned'));
    assert.equal(previewed.length, 5, previewed.join('\n'));
    for (const lock of ['cache.local/a:sha256:1', 'cache.gone/a:sha256:1', 'cache.local/b:sha256:2', 'replication.push.eu:apps/x:v1', 'replication.push.eu2:other:v1']) {
      assert.ok(previewed.some((m) => m.includes(`(${lock})`)), lock);
    }
    assert.deepEqual(await lockKeys('cache'), cacheBefore, 'a dry run deletes nothing');
    assert.deepEqual(await lockKeys('replication'), replicationBefore);

    const real = await scrub('--cache-orphans', '--replication-orphans');
    assert.equal(real.code, 0, real.stderr);
    assert.deepEqual(await lockKeys('cache'), ['cache.hub/lib/a:sha256:1', 'cache.undecodable']);
    assert.deepEqual(await lockKeys('replication'), ['replication.push.eu2:apps/x:v1']);
    assert.match(messages(real).at(-1)!, /delete orphaned cache job: 3, delete orphaned replication job: 2/);
  });
});
