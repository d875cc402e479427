// `angos worker` draining real cache fills (docs/pull-through.md, "Cache fill"; docs/operations.md, "Job queue";
// spec 05 §2.6, §3, §4, scenarios 6, 12, 17). Caches run with [global.job_queue], so they only enqueue
// `cache.fetch_blob`; workers are child processes on the same configuration and storage. The upstream is a second
// registry behind a counting proxy (test/support/upstream-proxy.ts) that can trickle a body, so a fill lasts long
// enough to be killed or interrupted. Runs on the pass's backend (filesystem, or S3 on the test gateway).
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Digest } from '../../src/oci/digest.ts';
import { blobKeys, jobKeys } from '../../src/registry/keys.ts';
import { isNotFound, type ObjectStore } from '../../src/storage/object-store.ts';
import { expectError, expectStatus } from '../support/expect.ts';
import { jsonBody, request } from '../support/http.ts';
import { content, sha256, type Content } from '../support/oci.ts';
import { scrape, sampleValue } from '../support/prometheus.ts';
import { getBlob, pushBlob } from '../support/registry.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { openBackend, PASS_BACKEND, type StorageBackend } from '../support/storage-backends.ts';
import { startUpstreamProxy, type Trickle, type UpstreamProxy } from '../support/upstream-proxy.ts';
import { logMessage, logsOf, startWorker, until, type RunningWorker } from '../support/worker-process.ts';

const CLAIM_TTL_SECS = 3;
const POLL_MS = 200;
/** Room for a loaded two-core machine between a due moment and the log line that shows it. */
const SLACK_MS = 1500;

interface JobRow {
  storage_key: string;
  kind: string;
  lock_key: string;
  attempts: number;
}

const lockKey = (ns: string, digest: string) => `cache.${ns}:${digest}`;
const blobPath = (digest: string) => new RegExp(`/blobs/${digest}$`);
/** The blob store key of a digest's bytes. */
const dataKey = (digest: string) => blobKeys.data(digest as Digest);
const at = (log: { timestamp: string }) => Date.parse(log.timestamp);

describe(`pull-through cache fills drained by angos worker (${PASS_BACKEND})`, () => {
  let backend: StorageBackend;
  let upstream: RunningServer;
  let proxy: UpstreamProxy;
  let place: string;
  let store: ObjectStore;
  let cache: RunningServer;
  const servers: RunningServer[] = [];
  const workers: RunningWorker[] = [];

  const cacheToml = () =>
    [
      '[global]',
      'enable_blob_redirect = false',
      'enable_manifest_redirect = false',
      'max_concurrent_cache_jobs = 2',
      '[global.job_queue]',
      `claim_ttl_secs = ${CLAIM_TTL_SECS}`,
      'retry_backoff_min_ms = 100',
      'retry_backoff_max_ms = 400',
      'pending_refresh_interval_secs = 5',
      '[global.access_policy]',
      'default = "allow"',
      '[repository."mirror"]',
      '[[repository."mirror".upstream]]',
      `url = "${proxy.url}"`,
    ].join('\n');

  /** A cache server on the shared storage place. */
  async function cacheServer(): Promise<RunningServer> {
    const srv = await startServer({ rootDir: backend.rootDir(place), storageToml: backend.storageToml(place), extraToml: cacheToml() });
    servers.push(srv);
    return srv;
  }

  function worker(configPath = cache.configPath): RunningWorker {
    const started = startWorker(configPath, ['--queue', 'cache'], `${POLL_MS}ms`);
    workers.push(started);
    return started;
  }

  before(async () => {
    backend = await openBackend(PASS_BACKEND);
    upstream = await startServer();
    proxy = await startUpstreamProxy(upstream.url);
    place = `ptw-${randomUUID().slice(0, 8)}`;
    store = backend.store(place);
    cache = await cacheServer();
  });
  // A test that failed with a worker still running must not leave it to claim the next test's jobs.
  afterEach(async () => {
    proxy.throttle = undefined;
    await Promise.all(workers.splice(0).map((w) => w.kill()));
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await Promise.all(servers.map((srv) => srv.stop()));
    await proxy?.close();
    await upstream?.stop();
    await backend?.close();
  });

  /** A blob only the upstream holds, under `library/<repo>` there (`mirror/library/<repo>` through the cache). */
  async function coldBlob(repo: string, size = 16 * 1024): Promise<Content> {
    const blob = content(randomBytes(size));
    await pushBlob(upstream.url, `library/${repo}`, blob);
    return blob;
  }

  async function jobList(srv: RunningServer, list: 'list' | 'failed'): Promise<JobRow[]> {
    const response = await request(srv.url, `/v2/_angos/jobs/${list}?queue=cache&n=1000`);
    expectStatus(response, 200);
    const body = jsonBody(response) as { jobs?: JobRow[]; failed?: JobRow[] };
    return (list === 'list' ? body.jobs : body.failed)!;
  }
  const pending = (srv = cache) => jobList(srv, 'list');
  const pendingWith = async (lock: string, srv = cache) => ((await pending(srv)).some((job) => job.lock_key === lock) ? true : undefined);
  const drained = async (srv = cache) => ((await pending(srv)).length === 0 ? true : undefined);

  const upstreamGets = (digest: string) => proxy.count('GET', blobPath(digest));
  async function stored(digest: string): Promise<boolean> {
    try {
      await store.head(dataKey(digest));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }
  const trickle = (digest: string, spec: Trickle) => {
    proxy.throttle = (req) => (blobPath(digest).test((req.url ?? '').split('?')[0]!) ? spec : undefined);
  };

  async function expectServed(srv: RunningServer, ns: string, blob: Content): Promise<void> {
    const pulled = await getBlob(srv.url, ns, blob.digest);
    expectStatus(pulled, 200);
    assert.equal(pulled.headers['docker-content-digest'], blob.digest);
    assert.equal(sha256(pulled.body), blob.digest);
  }
  /** A GET served from storage: the right bytes and no upstream request. */
  async function expectLocal(srv: RunningServer, ns: string, blob: Content): Promise<void> {
    const before = upstreamGets(blob.digest);
    await expectServed(srv, ns, blob);
    assert.equal(upstreamGets(blob.digest), before, `${ns}@${blob.digest} is served from storage`);
  }

  async function enqueueCounts(srv: RunningServer): Promise<{ hit: number; miss: number }> {
    const samples = await scrape(srv.url);
    const count = (dedup: string) => sampleValue(samples, 'angos_job_queue_enqueued_total', { queue: 'cache', dedup }) ?? 0;
    return { hit: count('hit'), miss: count('miss') };
  }

  it('scenario 6: ten concurrent misses without a worker make one job (9 dedup hits); a worker stores it; the next GET is local', async () => {
    const blob = await coldBlob('scenario6');
    const ns = 'mirror/library/scenario6';
    const before = await enqueueCounts(cache);
    const pulls = await Promise.all(Array.from({ length: 10 }, () => getBlob(cache.url, ns, blob.digest)));
    for (const pulled of pulls) {
      expectStatus(pulled, 200);
      assert.equal(pulled.headers['docker-content-digest'], blob.digest);
      assert.deepEqual(pulled.body, blob.bytes);
    }
    // Enqueues run after each answer started: wait until all ten are counted.
    const counts = await until('ten enqueues counted', async () => {
      const now = await enqueueCounts(cache);
      return now.hit + now.miss - before.hit - before.miss >= 10 ? now : undefined;
    });
    assert.equal(counts.hit - before.hit, 9, 'dedup="hit"');
    assert.equal(counts.miss - before.miss, 1, 'dedup="miss"');
    const jobs = await pending();
    assert.equal(jobs.length, 1, JSON.stringify(jobs));
    assert.equal(jobs[0]!.lock_key, lockKey(ns, blob.digest));
    assert.equal(jobs[0]!.kind, 'cache.fetch_blob');
    assert.equal(jobs[0]!.attempts, 0);
    assert.equal(await stored(blob.digest), false, 'nothing drains without a worker');
    const clientGets = upstreamGets(blob.digest);
    assert.ok(clientGets >= 1 && clientGets <= 10);

    const w = worker();
    await until('the fill', () => logsOf(w, 'job succeeded', lockKey(ns, blob.digest))[0]);
    await until('an empty queue', () => drained());
    assert.equal(upstreamGets(blob.digest), clientGets + 1, 'the fill downloaded the blob once');
    assert.equal(await stored(blob.digest), true);
    await expectLocal(cache, ns, blob);
    assert.equal(await w.stop(), 0, w.stderr());
  });

  it('scenario 12: a worker killed mid-fill leaves nothing cached; a second worker takes the job over once the claim lapses', async () => {
    const blob = await coldBlob('crash', 96 * 1024);
    const ns = 'mirror/library/crash';
    const lock = lockKey(ns, blob.digest);
    await expectServed(cache, ns, blob);
    await until('the queued fill', () => pendingWith(lock));
    trickle(blob.digest, { chunkBytes: 8 * 1024, intervalMs: 300 }); // 12 slices: a fill of about 3.6 s
    const gets = upstreamGets(blob.digest);
    const first = worker();
    const claimed = await until('the first claim', () => logsOf(first, 'job claimed', lock)[0]);
    await until('the fill download', () => (upstreamGets(blob.digest) > gets ? true : undefined));
    await sleep(1300); // past the first claim refresh (every max(1, ttl/3) s)
    await first.kill();
    proxy.throttle = undefined;
    assert.equal(logsOf(first, 'job succeeded', lock).length, 0, 'killed mid-fill');

    // The dead worker's claim is still fresh: its expiry is the last refresh + claim_ttl_secs.
    const claim = JSON.parse((await store.get(jobKeys.claim(lock))).toString()) as { expires_at: string };
    const expiresAt = Date.parse(claim.expires_at);
    assert.ok(expiresAt > Date.now(), 'the claim outlives the worker');

    // No worker runs: the blob is not cached, a GET still goes upstream.
    assert.equal(await stored(blob.digest), false, 'no bytes under the blob data key');
    const before = upstreamGets(blob.digest);
    await expectServed(cache, ns, blob);
    assert.equal(upstreamGets(blob.digest), before + 1, 'the pull went upstream');
    assert.equal(await stored(blob.digest), false);

    const second = worker();
    const started = at(await until('the second worker', () => logsOf(second, 'Worker started')[0]));
    const takeover = await until('the takeover', () => logsOf(second, 'job claimed', lock)[0], 15_000);
    // The takeover may claim the killed job, or the one the miss above queued for the same lock key (both wait on
    // the one claim; on a slow store the claim may lapse between the two): either way the same fill.
    assert.equal(takeover.fields.lock_key, claimed.fields.lock_key, "a job of the killed fill's lock key is taken over");
    assert.ok(at(takeover) >= expiresAt, `not taken while the claim was fresh (claimed ${at(takeover) - expiresAt} ms after expiry)`);
    assert.ok(at(takeover) <= Math.max(expiresAt, started) + POLL_MS + SLACK_MS, `taken within a poll of the expiry (${at(takeover) - expiresAt} ms)`);
    await until('the fill', () => logsOf(second, 'job succeeded', lock)[0]);
    // The miss while no worker ran queued a second job (the first was claimed): it only finds the bytes stored.
    await until('an empty queue', () => drained());
    assert.deepEqual(await jobList(cache, 'failed'), []);
    assert.equal(await stored(blob.digest), true);
    assert.equal(sha256(await store.get(dataKey(blob.digest))), blob.digest, 'the stored bytes hash to the digest');
    await expectLocal(cache, ns, blob);
    assert.equal(await second.stop(), 0, second.stderr());
  });

  it('scenario 12: SIGTERM mid-fill finishes the running fill, claims nothing new and exits 0 within 30 s', async () => {
    const running = await coldBlob('sigterm', 64 * 1024);
    const queued = await coldBlob('sigterm');
    const ns = 'mirror/library/sigterm';
    const runningLock = lockKey(ns, running.digest);
    const queuedLock = lockKey(ns, queued.digest);
    await expectServed(cache, ns, running);
    await until('the queued fill', () => pendingWith(runningLock));
    trickle(running.digest, { chunkBytes: 8 * 1024, intervalMs: 300 }); // 8 slices: a fill of about 2.4 s
    const gets = upstreamGets(running.digest);
    const w = worker();
    await until('the claim', () => logsOf(w, 'job claimed', runningLock)[0]);
    await until('the fill download', () => (upstreamGets(running.digest) > gets ? true : undefined));
    await sleep(300);
    const signalledAt = Date.now();
    const exit = w.stop();
    await until('the signal', () => w.logs.find((log) => logMessage(log) === 'Received SIGTERM, finishing running jobs'));
    await expectServed(cache, ns, queued);
    await until('the second job', () => pendingWith(queuedLock));
    assert.equal(logsOf(w, 'Worker stopped').length, 0, 'the second job was queued while the worker still ran');
    assert.equal(await exit, 0, w.stderr());
    assert.ok(Date.now() - signalledAt < 30_000);
    proxy.throttle = undefined;

    assert.equal(logsOf(w, 'job succeeded', runningLock).length, 1, 'the running fill finished');
    const order = w.logs.map(logMessage);
    assert.ok(order.lastIndexOf('job succeeded') < order.indexOf('Worker stopped'));
    assert.equal(logsOf(w, 'job claimed', queuedLock).length, 0, 'nothing new claimed after SIGTERM');
    assert.deepEqual((await pending()).map((job) => job.lock_key), [queuedLock]);
    await expectLocal(cache, ns, running);

    // The job left behind is intact: the next worker runs it.
    const next = worker();
    await until('the left job', () => logsOf(next, 'job succeeded', queuedLock)[0]);
    await until('an empty queue', () => drained());
    await expectLocal(cache, ns, queued);
    assert.equal(await next.stop(), 0, next.stderr());
  });

  it('two servers and two workers on one storage: each cold blob is filled exactly once, pulled through either or both', async () => {
    const other = await cacheServer();
    const ns = 'mirror/library/shared';
    const blobs = await Promise.all(Array.from({ length: 12 }, () => coldBlob('shared', 32 * 1024)));
    // 0–3 through the first server, 4–7 through both, 8–11 through the second.
    const routes = blobs.map((_, i) => (i < 4 ? [cache] : i < 8 ? [cache, other] : [other]));
    const before = await Promise.all([enqueueCounts(cache), enqueueCounts(other)]);
    await Promise.all(
      blobs.map(async (blob, i) => {
        for (const srv of routes[i]!) await expectServed(srv, ns, blob);
      }),
    );
    const clientGets = routes.reduce((sum, route) => sum + route.length, 0);
    const after = await until('every enqueue counted', async () => {
      const now = await Promise.all([enqueueCounts(cache), enqueueCounts(other)]);
      const total = now.reduce((sum, c, i) => sum + c.hit + c.miss - before[i]!.hit - before[i]!.miss, 0);
      return total >= clientGets ? now : undefined;
    });
    const delta = (key: 'hit' | 'miss') => after.reduce((sum, c, i) => sum + c[key] - before[i]![key], 0);
    assert.equal(delta('miss'), 12, 'one job per blob');
    assert.equal(delta('hit'), 4, 'the second server joined the first server’s jobs');
    const queued = await pending(other);
    assert.deepEqual(queued.map((job) => job.lock_key).sort(), blobs.map((blob) => lockKey(ns, blob.digest)).sort());
    for (const [i, blob] of blobs.entries()) assert.equal(upstreamGets(blob.digest), routes[i]!.length, 'no fill before a worker runs');

    // Fills trickled (about 1.2 s each) so that both workers' pools take jobs.
    const digests = new Set(blobs.map((blob) => blob.digest));
    proxy.throttle = (req) => {
      const digest = /\/blobs\/([^/?]+)$/.exec((req.url ?? '').split('?')[0]!)?.[1];
      return digest !== undefined && digests.has(digest) ? { chunkBytes: 4 * 1024, intervalMs: 150 } : undefined;
    };
    const pair = [worker(cache.configPath), worker(other.configPath)];
    try {
      await until('both servers see an empty queue', async () => ((await drained(cache)) && (await drained(other))) || undefined, 40_000);
    } finally {
      proxy.throttle = undefined;
    }
    for (const blob of blobs) {
      const lock = lockKey(ns, blob.digest);
      const claims = pair.flatMap((w) => logsOf(w, 'job claimed', lock));
      const successes = pair.flatMap((w) => logsOf(w, 'job succeeded', lock));
      assert.equal(claims.length, 1, `${lock} claimed once`);
      assert.equal(successes.length, 1, `${lock} succeeded once`);
    }
    for (const w of pair) {
      assert.ok(logsOf(w, 'job succeeded').length >= 1, 'both workers drained');
      assert.deepEqual(
        w.logs.filter((log) => ['job failed; retrying', 'job dead-lettered', 'job claim lost'].includes(logMessage(log))),
        [],
      );
    }
    assert.deepEqual(await jobList(cache, 'failed'), []);
    for (const [i, blob] of blobs.entries()) {
      assert.equal(upstreamGets(blob.digest), routes[i]!.length + 1, `blob ${i}: client GETs + one fill`);
      assert.equal(await stored(blob.digest), true);
      await expectLocal(cache, ns, blob);
      await expectLocal(other, ns, blob);
    }
    assert.deepEqual(await Promise.all(pair.map((w) => w.stop())), [0, 0]);
  });

  it('scenario 17: a repository added by a hot reload is filled by the running worker; a fill in flight across the reload completes', async () => {
    const inFlight = await coldBlob('reload', 64 * 1024);
    const added = await coldBlob('added');
    const ns = 'mirror/library/reload';
    const addedNs = 'mirror2/library/added';
    expectError(await getBlob(cache.url, addedNs, added.digest), 404, 'BLOB_UNKNOWN'); // not a mirror yet
    await expectServed(cache, ns, inFlight);
    await until('the queued fill', () => pendingWith(lockKey(ns, inFlight.digest)));
    trickle(inFlight.digest, { chunkBytes: 8 * 1024, intervalMs: 300 }); // 8 slices: about 2.4 s
    const w = worker();
    await until('the claim', () => logsOf(w, 'job claimed', lockKey(ns, inFlight.digest))[0]);

    // Replace the file whole (as an editor's rename does): the server and the worker watch it.
    const text = await readFile(cache.configPath, 'utf8');
    const temporary = `${cache.configPath}.${randomUUID()}`;
    await writeFile(temporary, `${text}\n[repository."mirror2"]\n[[repository."mirror2".upstream]]\nurl = "${proxy.url}"\n`);
    await rename(temporary, cache.configPath);
    await until('the worker reload', () => logsOf(w, 'Configuration reloaded')[0]);
    await until('the server reload', () => cache.logs.find((log) => (log.fields as { message?: string }).message === 'Configuration reloaded'));

    const order = w.logs.map(logMessage);
    const succeeded = await until('the fill in flight', () => logsOf(w, 'job succeeded', lockKey(ns, inFlight.digest))[0]);
    assert.ok(order.indexOf('Configuration reloaded') < w.logs.indexOf(succeeded), 'the fill was still running at the reload');
    proxy.throttle = undefined;
    await expectLocal(cache, ns, inFlight);

    await expectServed(cache, addedNs, added);
    await until('the new repository’s fill', () => logsOf(w, 'job succeeded', lockKey(addedNs, added.digest))[0]);
    assert.equal(logsOf(w, 'job failed; retrying', lockKey(addedNs, added.digest)).length, 0, 'the new repository was known at the first attempt');
    assert.equal(logsOf(w, 'Worker started').length, 1, 'no restart');
    await until('an empty queue', () => drained());
    assert.equal(upstreamGets(added.digest), 2, 'one client GET and one fill');
    await expectLocal(cache, addedNs, added);
    assert.equal(await w.stop(), 0, w.stderr());
  });
});
