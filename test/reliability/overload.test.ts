// Overload with `max_concurrent_requests` small (docs/configuration.md, "[global]": requests handled at once per
// process, excess requests wait in order, health and metrics never wait; bodies streaming in have a pool of their
// own, the `angos_http_concurrency_in_use{pool}` and `…_waiting{pool}` gauges show both). Clients that give up
// while queued, slowloris headers, slow upload bodies and an Argon2 wrong-password flood (docs/configuration.md,
// "[auth.identity.<id>]": successful verifications are cached so a busy client does not pay Argon2 again) must
// not make health checks, pulls or requests with already verified credentials queue behind them. Latencies are
// printed; the bounds are hang guards: a request that queues behind an attack waits seconds, one that does not
// waits milliseconds, even on a busy machine.
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { basicAuth, identityToml } from '../e2e/auth-fixtures.ts';
import { gaugeReaches, type Pool } from '../support/concurrency-gauges.ts';
import { registryToml } from '../support/config.ts';
import { expectStatus } from '../support/expect.ts';
import { HeldConnection } from '../support/held-connection.ts';
import { request } from '../support/http.ts';
import { formatSummary, LatencyProbe, type ProbeTarget } from '../support/latency-probe.ts';
import { content, descriptorOf, imageManifest, OCI_CONFIG, OCI_LAYER, type Content } from '../support/oci.ts';
import { pushBlob, pushManifest, startUpload } from '../support/registry.ts';
import { requestOutcome } from '../support/request-outcome.ts';
import { seededBytes } from '../support/seeded-bytes.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { Tally } from '../support/tally.ts';

const LIMIT = 4;
const NS = 'overload/app';
const PASSWORD = 'correct horse battery staple';
/** Every probe must be answered within this (a hang guard, not a benchmark). */
const ANSWER_WITHIN_MS = 2_000;
/** …and half of them within this. */
const MEDIAN_WITHIN_MS = 300;
const PROBE_EVERY_MS = 50;
/** How long a client of an attack may wait for its own answer once the attack is over. */
const ATTACK_ANSWER_WITHIN_MS = 30_000;
const QUEUED = 60;
const SLOWLORIS = 100;
const SLOW_UPLOADS = 16;
const WRONG_PASSWORDS = 300;

/**
 * `hungRequests`: a probe answered after ANSWER_WITHIN_MS, or a client never answered. `failedRequests`: a wrong
 * status or a cut connection. `slowMedians`: a probe whose median is over MEDIAN_WITHIN_MS. `abandonedInQueue`:
 * clients that closed their connection still counted as waiting (each would take a slot when its turn comes).
 * `leakedSlots`: a pool not back to 0 in use and 0 waiting once every client is gone.
 */
const OVERLOAD_COUNTS = ['hungRequests', 'failedRequests', 'slowMedians', 'abandonedInQueue', 'leakedSlots'] as const;
type OverloadCount = (typeof OVERLOAD_COUNTS)[number];

const HOST = 'Host: 127.0.0.1\r\n';

describe(`max_concurrent_requests = ${LIMIT} under overload`, () => {
  let server: RunningServer;
  let layer: Content;
  /** Large enough that a client that never reads holds its download, and so its slot, through backpressure. */
  let big: Content;
  const alice = basicAuth('alice', PASSWORD);

  before(async () => {
    const identity = await identityToml('alice', 'alice', PASSWORD);
    server = await startServer({ extraToml: `${identity}\n${registryToml({ global: { max_concurrent_requests: LIMIT } })}` });
    const config = content(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    layer = content(seededBytes('overload/layer', 64 * 1024));
    big = content(seededBytes('overload/big', 32 * 1024 * 1024));
    await Promise.all([config, layer, big].map((blob) => pushBlob(server.url, NS, blob)));
    await pushManifest(server.url, NS, 'v1', imageManifest({ config: descriptorOf(config, OCI_CONFIG), layers: [descriptorOf(layer, OCI_LAYER)] }));
    // alice's first request pays Argon2 once; from then on her credentials answer from the verification cache.
    expectStatus(await request(server.url, `/v2/${NS}/manifests/v1`, { headers: { authorization: alice } }), 200);
  });
  after(async () => {
    await server?.stop();
  });

  const HEALTH: ProbeTarget = { name: 'GET /healthz', path: '/healthz' };
  const CACHED_CREDENTIALS: ProbeTarget = { name: 'GET manifest as alice (verified credentials)', path: `/v2/${NS}/manifests/v1`, headers: { authorization: alice } };
  const everyProbe = (): ProbeTarget[] => [
    HEALTH,
    { name: 'GET /v2/', path: '/v2/' },
    { name: 'GET manifest', path: `/v2/${NS}/manifests/v1` },
    { name: 'GET blob', path: `/v2/${NS}/blobs/${layer.digest}` },
    CACHED_CREDENTIALS,
  ];

  /** Runs `attack` while each target is requested every PROBE_EVERY_MS; prints the latencies and flags the bounds. */
  async function probeDuring(t: TestContext, tally: Tally<OverloadCount>, targets: ProbeTarget[], attack: () => Promise<void>): Promise<void> {
    const probes = targets.map((target) => new LatencyProbe(server.url, target, ANSWER_WITHIN_MS).start(PROBE_EVERY_MS));
    try {
      await attack();
    } finally {
      for (const summary of await Promise.all(probes.map((probe) => probe.stop()))) {
        t.diagnostic(formatSummary(summary));
        if (summary.slow > 0) tally.flag('hungRequests', `${summary.name}: ${summary.slow} of ${summary.count} answered after more than ${ANSWER_WITHIN_MS} ms (max ${summary.max} ms)`, summary.slow);
        if (summary.p50 > MEDIAN_WITHIN_MS) tally.flag('slowMedians', `${summary.name}: p50 ${summary.p50} ms`);
        for (const failure of summary.failed) tally.flag('failedRequests', failure);
      }
    }
  }

  /** The attack's own clients: each must get `expected` once the attack is over. */
  function expectAnswers(tally: Tally<OverloadCount>, what: string, answers: ReadonlyArray<number | undefined>, expected: number): void {
    answers.forEach((status, index) => {
      if (status === undefined) tally.flag('hungRequests', `${what} ${index}: no answer within ${ATTACK_ANSWER_WITHIN_MS} ms`);
      else if (status !== expected) tally.flag('failedRequests', `${what} ${index}: ${status}, expected ${expected}`);
    });
  }

  /** Healthy, and both pools back to 0 in use and 0 waiting. */
  async function expectRecovered(tally: Tally<OverloadCount>): Promise<void> {
    expectStatus(await request(server.url, '/healthz'), 200);
    for (const pool of ['requests', 'uploads'] as const) {
      for (const name of ['angos_http_concurrency_in_use', 'angos_http_concurrency_waiting'] as const) {
        await gaugeReaches(server.url, name, pool, 0, 10_000).catch((error: Error) => tally.flag('leakedSlots', error.message));
      }
    }
  }

  function finish(t: TestContext, tally: Tally<OverloadCount>): void {
    tally.report(t);
    assert.deepEqual(tally.counts, tally.zeroes);
  }

  /** LIMIT requests that never finish: downloads never read, or PATCH bodies never completed. */
  async function holdEverySlot(pool: Pool): Promise<HeldConnection[]> {
    if (pool === 'requests') {
      return Array.from({ length: LIMIT }, () => HeldConnection.open(server.url, `GET /v2/${NS}/blobs/${big.digest} HTTP/1.1\r\n${HOST}\r\n`).stall());
    }
    const sessions = await Promise.all(Array.from({ length: LIMIT }, () => startUpload(server.url, NS)));
    return sessions.map(({ location }) =>
      HeldConnection.open(server.url, `PATCH ${location} HTTP/1.1\r\n${HOST}Content-Type: application/octet-stream\r\nContent-Length: 1000\r\nContent-Range: 0-999\r\n\r\n0123456789`),
    );
  }

  test(`clients queued for a slot that give up take none: the ${QUEUED / 2} behind them are served, every slot comes back`, async (t) => {
    const tally = new Tally(OVERLOAD_COUNTS);
    // Each pool twice: the quitters leave before the slots free up, then at the same moment as they free up (a slot
    // handed to a waiter that is leaving must come back).
    for (const pool of ['requests', 'uploads'] as const) {
      for (const timing of ['before', 'while'] as const) {
        const round = `${pool}, quitters leaving ${timing} the slots free up`;
        const holders = await holdEverySlot(pool);
        const requestLine = pool === 'requests' ? 'GET /v2/ HTTP/1.1' : `POST /v2/${NS}/blobs/uploads/ HTTP/1.1`;
        const queued: HeldConnection[] = [];
        try {
          await gaugeReaches(server.url, 'angos_http_concurrency_in_use', pool, LIMIT);
          queued.push(...Array.from({ length: QUEUED }, () => HeldConnection.open(server.url, `${requestLine}\r\n${HOST}Content-Length: 0\r\n\r\n`)));
          await gaugeReaches(server.url, 'angos_http_concurrency_waiting', pool, QUEUED);
          const quitters = queued.filter((_, index) => index % 2 === 0);
          const stayers = queued.filter((_, index) => index % 2 === 1);
          if (timing === 'before') {
            await Promise.all(quitters.map((client) => client.abandon()));
            // Those that left are out of the queue: only the clients still connected wait.
            await gaugeReaches(server.url, 'angos_http_concurrency_waiting', pool, stayers.length, 5_000).catch((error: Error) =>
              tally.flag('abandonedInQueue', `${round}: ${error.message}`),
            );
            await Promise.all(holders.map((client) => client.abandon()));
          } else {
            await Promise.all([...quitters, ...holders].map((client) => client.abandon()));
          }
          const answers = await Promise.all(stayers.map((client) => client.answer(ATTACK_ANSWER_WITHIN_MS)));
          expectAnswers(tally, `${round}: queued client`, answers, pool === 'requests' ? 200 : 202);
          t.diagnostic(`${round}: ${QUEUED} queued, ${quitters.length} gave up, ${answers.filter((status) => status !== undefined).length} of the other ${stayers.length} answered`);
        } finally {
          await Promise.all([...holders, ...queued].map((client) => client.abandon()));
        }
        await expectRecovered(tally);
      }
    }
    finish(t, tally);
  });

  test(`slowloris: ${SLOWLORIS} connections sending their headers a byte at a time take no slot; health checks and pulls keep answering`, async (t) => {
    const tally = new Tally(OVERLOAD_COUNTS);
    const head = `GET /v2/ HTTP/1.1\r\n${HOST}\r\n`;
    const clients = Array.from({ length: SLOWLORIS }, () => new HeldConnection(server.url));
    try {
      const started = performance.now();
      await probeDuring(t, tally, everyProbe(), async () => {
        await Promise.all(clients.map((client, index) => sleep((index % 10) * 10).then(() => client.drip(head, 1, 100))));
      });
      t.diagnostic(`${SLOWLORIS} connections sent ${head.length} header bytes each, one every 100 ms, over ${Math.round(performance.now() - started)} ms`);
      expectAnswers(tally, 'slowloris client', await Promise.all(clients.map((client) => client.answer(ATTACK_ANSWER_WITHIN_MS))), 200);
    } finally {
      await Promise.all(clients.map((client) => client.abandon()));
    }
    await expectRecovered(tally);
    finish(t, tally);
  });

  test(`${SLOW_UPLOADS} slow-body uploads hold only the uploads pool: pulls, /v2/ and health checks keep answering`, async (t) => {
    const tally = new Tally(OVERLOAD_COUNTS);
    const size = 32 * 1024;
    const body = seededBytes('overload/slow-body', size);
    const sessions = await Promise.all(Array.from({ length: SLOW_UPLOADS }, () => startUpload(server.url, NS)));
    const clients = sessions.map(({ location }) =>
      HeldConnection.open(server.url, `PATCH ${location} HTTP/1.1\r\n${HOST}Content-Type: application/octet-stream\r\nContent-Length: ${size}\r\nContent-Range: 0-${size - 1}\r\n\r\n`),
    );
    try {
      await probeDuring(t, tally, everyProbe(), async () => {
        // 1 KiB every 100 ms: each body takes about 3 s; LIMIT of them hold the uploads pool, the rest wait.
        const dripping = Promise.all(clients.map((client) => client.drip(body, 1024, 100)));
        await gaugeReaches(server.url, 'angos_http_concurrency_in_use', 'uploads', LIMIT);
        await gaugeReaches(server.url, 'angos_http_concurrency_waiting', 'uploads', SLOW_UPLOADS - LIMIT);
        await dripping;
      });
      expectAnswers(tally, 'slow upload', await Promise.all(clients.map((client) => client.answer(ATTACK_ANSWER_WITHIN_MS))), 202);
    } finally {
      await Promise.all(clients.map((client) => client.abandon()));
    }
    await expectRecovered(tally);
    finish(t, tally);
  });

  test(`an Argon2 flood of ${WRONG_PASSWORDS} wrong passwords: health checks and requests with verified credentials keep answering`, async (t) => {
    const tally = new Tally(OVERLOAD_COUNTS);
    await probeDuring(t, tally, [HEALTH, CACHED_CREDENTIALS], async () => {
      const started = performance.now();
      const outcomes = await Promise.all(
        Array.from({ length: WRONG_PASSWORDS }, (_, index) =>
          requestOutcome(server.url, index % 2 === 0 ? '/v2/' : `/v2/${NS}/manifests/v1`, {
            method: 'GET',
            headers: { authorization: basicAuth('alice', `wrong-${index}`) },
            hangMs: ATTACK_ANSWER_WITHIN_MS,
          }),
        ),
      );
      t.diagnostic(`${WRONG_PASSWORDS} wrong passwords sent at once, all answered after ${Math.round(performance.now() - started)} ms`);
      expectAnswers(tally, 'wrong password', outcomes.map((outcome) => (outcome.kind === 'answered' ? outcome.response.status : undefined)), 401);
    });
    await expectRecovered(tally);
    finish(t, tally);
  });
});
