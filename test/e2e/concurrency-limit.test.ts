// `max_concurrent_requests` (docs/operations.md, "Concurrency"): a client that gives up while queued for a slot
// must never keep one, slow uploads must not starve other requests, and the gauges show slots in use and waiters.
// Clients here are raw sockets, so a test controls exactly when a request is sent, stalls and is abandoned.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { expectStatus } from '../support/expect.ts';
import { request } from '../support/http.ts';
import { content } from '../support/oci.ts';
import { pushBlob, startUpload } from '../support/registry.ts';
import { useServer } from '../support/registry-server.ts';

const N = 'test/app';
/** A hang guard, not a timing assertion: without the fix these requests never get an answer. */
const ANSWER_WITHIN_MS = 15_000;

function open(url: string, head: string, body = ''): Socket {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  socket.on('error', () => {});
  socket.write(`${head}\r\nHost: 127.0.0.1\r\n${body === '' && !head.includes('Content-Length') ? 'Content-Length: 0\r\n' : ''}\r\n${body}`);
  return socket;
}

async function gauge(url: string, name: string, pool: string): Promise<number> {
  const metrics = (await request(url, '/metrics')).body.toString('utf8');
  const match = new RegExp(`^${name}\\{pool="${pool}"\\} (\\d+)$`, 'm').exec(metrics);
  assert.ok(match, `${name}{pool="${pool}"} is exported`);
  return Number(match[1]);
}

/** Polls the gauge until it reads `value` (the server notices closed sockets asynchronously). */
async function gaugeReaches(url: string, name: string, pool: string, value: number): Promise<void> {
  const deadline = Date.now() + ANSWER_WITHIN_MS;
  while ((await gauge(url, name, pool)) !== value) {
    assert.ok(Date.now() < deadline, `${name}{pool="${pool}"} reaches ${value}`);
    await sleep(50);
  }
}

function answered<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([promise, sleep(ANSWER_WITHIN_MS).then(() => assert.fail(`${what}: no answer within ${ANSWER_WITHIN_MS} ms`))]);
}

async function destroyAll(sockets: Socket[]): Promise<void> {
  await Promise.all(sockets.map(async (socket) => {
    socket.destroy();
    if (!socket.closed) await once(socket, 'close');
  }));
}

describe('max_concurrent_requests = 2', () => {
  const srv = useServer({ global: { max_concurrent_requests: 2 } });

  it('uploads: 20 queued clients that give up take no slot; once two stalled uploads end, uploads run again', async () => {
    const sessions = [await startUpload(srv.url, N), await startUpload(srv.url, N)];
    // Two PATCHes that declare 1000 bytes, send 10, and stall: both upload slots are held.
    const stalled = sessions.map((s) => open(srv.url, `PATCH ${s.location} HTTP/1.1\r\nContent-Length: 1000\r\nContent-Range: 0-999`, '0123456789'));
    await gaugeReaches(srv.url, 'angos_http_concurrency_in_use', 'uploads', 2);

    const queued = Array.from({ length: 20 }, () => open(srv.url, `POST /v2/${N}/blobs/uploads/ HTTP/1.1`));
    await gaugeReaches(srv.url, 'angos_http_concurrency_waiting', 'uploads', 20);
    // Uploads must not starve the other pool: the API root answers while both upload slots are taken.
    expectStatus(await answered(request(srv.url, '/v2/'), 'GET /v2/ beside stalled uploads'), 200);

    await destroyAll(queued);
    await gaugeReaches(srv.url, 'angos_http_concurrency_waiting', 'uploads', 0);
    await destroyAll(stalled);
    await gaugeReaches(srv.url, 'angos_http_concurrency_in_use', 'uploads', 0);

    const results = await answered(Promise.all(Array.from({ length: 4 }, () => startUpload(srv.url, N))), 'uploads after the stall');
    assert.equal(results.length, 4);
    await gaugeReaches(srv.url, 'angos_http_concurrency_in_use', 'uploads', 0);
  });

  it('requests: 20 queued clients that give up take no slot; once two stalled downloads end, /v2/ answers', async () => {
    const big = content(Buffer.alloc(32 * 1024 * 1024, 7));
    await pushBlob(srv.url, N, big);
    // Two downloads whose clients never read: backpressure holds both request slots.
    const stalled = [0, 1].map(() => {
      const socket = open(srv.url, `GET /v2/${N}/blobs/${big.digest} HTTP/1.1`);
      socket.pause();
      return socket;
    });
    await gaugeReaches(srv.url, 'angos_http_concurrency_in_use', 'requests', 2);

    const queued = Array.from({ length: 20 }, () => open(srv.url, 'GET /v2/ HTTP/1.1'));
    await gaugeReaches(srv.url, 'angos_http_concurrency_waiting', 'requests', 20);
    await destroyAll(queued);
    await gaugeReaches(srv.url, 'angos_http_concurrency_waiting', 'requests', 0);
    await destroyAll(stalled);
    await gaugeReaches(srv.url, 'angos_http_concurrency_in_use', 'requests', 0);

    for (let i = 0; i < 4; i++) expectStatus(await answered(request(srv.url, '/v2/'), 'GET /v2/ after the stall'), 200);
    await gaugeReaches(srv.url, 'angos_http_concurrency_in_use', 'requests', 0);
  });
});
