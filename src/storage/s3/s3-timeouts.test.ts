import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { readAll } from '../suite-support.ts';
import { CircuitBreaker, CircuitOpenError } from './circuit-breaker.ts';
import { S3_DEFAULTS } from '../../config/s3-section.ts';
import { S3ObjectStore } from './s3-object-store.ts';

/** A loopback TCP server that answers each connection with `respond` (or never); counts connections. */
async function rawServer(respond: (socket: Socket) => void): Promise<{ server: Server; endpoint: string; connections(): number; close(): Promise<void> }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    respond(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    endpoint: `http://127.0.0.1:${port}`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function storeAt(endpoint: string, overrides: Partial<ConstructorParameters<typeof S3ObjectStore>[0]> = {}): S3ObjectStore {
  return new S3ObjectStore({
    ...S3_DEFAULTS,
    endpoint,
    bucket: 'b',
    region: 'us-east-1',
    accessKeyId: 'id',
    secretKey: 'secret',
    multipartPartSize: 5 * 1024 * 1024,
    circuitBreakerThreshold: 100,
    ...overrides,
  });
}

describe('S3 timeouts and retries', () => {
  const servers: { close(): Promise<void> }[] = [];
  after(async () => {
    for (const server of servers) await server.close();
  });

  it('a server that never answers fails each attempt at the attempt timeout, retried max_attempts times', async () => {
    const silent = await rawServer(() => {});
    servers.push(silent);
    const store = storeAt(silent.endpoint, { maxAttempts: 3, operationAttemptTimeoutSecs: 0.2, operationTimeoutSecs: 60 });
    await assert.rejects(store.head('k'));
    assert.equal(silent.connections(), 3);
    store.destroy();
  });

  it('the operation timeout ends the retries early', async () => {
    const silent = await rawServer(() => {});
    servers.push(silent);
    const store = storeAt(silent.endpoint, { maxAttempts: 50, operationAttemptTimeoutSecs: 0.3, operationTimeoutSecs: 0.5 });
    await assert.rejects(store.head('k'));
    assert.ok(silent.connections() < 50, `${silent.connections()} attempts`);
    store.destroy();
  });

  it('5xx answers are retried; 4xx answers are not', async () => {
    let status = 503;
    const flaky = await rawServer((socket) => {
      socket.once('data', () => {
        socket.end(`HTTP/1.1 ${status} X\r\nContent-Type: application/xml\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      });
    });
    servers.push(flaky);
    const store = storeAt(flaky.endpoint, { maxAttempts: 3, operationAttemptTimeoutSecs: 5 });
    await assert.rejects(store.head('k'));
    assert.equal(flaky.connections(), 3);
    status = 403;
    await assert.rejects(store.head('k'));
    assert.equal(flaky.connections(), 4);
    store.destroy();
  });

  it('a download that stalls mid-body errors instead of hanging', async () => {
    const stalling = await rawServer((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 100\r\n\r\n0123456789');
      });
    });
    servers.push(stalling);
    const store = storeAt(stalling.endpoint, { maxAttempts: 1, operationAttemptTimeoutSecs: 0.3 });
    const stream = await store.getStream('k');
    await assert.rejects(readAll(stream));
    store.destroy();
  });
});

describe('CircuitBreaker', () => {
  it('opens at the threshold, admits one half-open probe per window, closes on success and re-arms on failure', () => {
    let now = 1000;
    const breaker = new CircuitBreaker({ threshold: 2, cooldownMs: 100, now: () => now });
    breaker.admit();
    breaker.failure();
    breaker.admit();
    breaker.success();
    breaker.failure();
    assert.equal(breaker.isOpen, false, 'a success resets the count: failures must be consecutive');
    breaker.failure();
    assert.equal(breaker.isOpen, true);
    assert.throws(() => breaker.admit(), CircuitOpenError);
    now += 100;
    breaker.admit();
    assert.throws(() => breaker.admit(), CircuitOpenError, 'only one probe at a time');
    breaker.failure();
    assert.throws(() => breaker.admit(), CircuitOpenError, 'a failed probe re-arms the cooldown');
    now += 100;
    breaker.admit();
    breaker.success();
    assert.equal(breaker.isOpen, false);
    breaker.admit();
  });
});
