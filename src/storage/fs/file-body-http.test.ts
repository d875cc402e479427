import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, createServer, get, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer, request as tlsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { requireBinary, runBinary } from '../../../test/support/binaries.ts';
import { FileBody } from './file-body.ts';

const MiB = 1024 * 1024;
const content = randomBytes(9 * MiB + 17);
let dir: string;
let blob: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'angos-file-body-http-'));
  blob = join(dir, 'blob');
  await writeFile(blob, content);
});
after(() => rm(dir, { recursive: true, force: true }));

/** Descriptors this process holds: every file a download opened must be closed after it. */
function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Serves the test blob as the blob handler does: head with a length, then the body by `copyInto`. */
function blobHandler(onCopy: (copy: Promise<void>) => void = () => {}): RequestListener {
  return (req, res) => {
    void (async () => {
      const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      const start = range ? Number(range[1]) : 0;
      const end = range ? Number(range[2]) + 1 : undefined;
      const body = new FileBody(await open(blob, 'r'), start, end);
      res.writeHead(range ? 206 : 200, { 'content-length': (end ?? content.length) - start });
      const copy = body.copyInto(res);
      onCopy(copy);
      await copy.catch(() => res.destroy());
    })();
  };
}

async function listen(server: Server, t: TestContext): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

interface Fetched {
  status: number;
  body: Buffer;
  /** The client's end of the connection, which tells a reused keep-alive connection from a new one. */
  localPort: number | undefined;
}

function fetchBytes(port: number, headers: Record<string, string> = {}, agent: Agent | false = false): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/', headers, agent }, (res: IncomingMessage) => {
      const parts: Buffer[] = [];
      const localPort = res.socket.localPort;
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts), localPort }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** Waits for the server side to let go of everything a download opened (closes complete asynchronously). */
async function settledDescriptors(expected: number): Promise<number> {
  for (let i = 0; i < 100 && openDescriptors() > expected; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  return openDescriptors();
}

describe('FileBody.copyInto an HTTP response over loopback', () => {
  it('sends the whole body byte for byte, and a range', async (t) => {
    const port = await listen(createServer(blobHandler()), t);
    const whole = await fetchBytes(port);
    assert.equal(whole.status, 200);
    assert.ok(whole.body.equals(content));
    const ranged = await fetchBytes(port, { range: `bytes=${3 * MiB + 5}-${7 * MiB}` });
    assert.equal(ranged.status, 206);
    assert.ok(ranged.body.equals(content.subarray(3 * MiB + 5, 7 * MiB + 1)));
    const tail = await fetchBytes(port, { range: `bytes=${content.length - 1}-${content.length - 1}` });
    assert.ok(tail.body.equals(content.subarray(content.length - 1)));
  });

  it('keeps a keep-alive connection usable for the next request after a sent body', async (t) => {
    const port = await listen(createServer(blobHandler()), t);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    const ports = new Set<number | undefined>();
    for (let i = 0; i < 3; i++) {
      const fetched = await fetchBytes(port, { range: `bytes=${i}-${content.length - 1}` }, agent);
      assert.ok(fetched.body.equals(content.subarray(i)));
      ports.add(fetched.localPort);
    }
    assert.equal(ports.size, 1, 'all three bodies came over one connection');
  });

  it('keeps up with a client that reads slowly, in small pauses', async (t) => {
    const port = await listen(createServer(blobHandler()), t);
    const slow = await new Promise<Buffer>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          parts.push(chunk);
          res.pause();
          setTimeout(() => res.resume(), 1);
        });
        res.on('end', () => resolve(Buffer.concat(parts)));
        res.on('error', reject);
      }).on('error', reject);
    });
    assert.ok(slow.equals(content));
  });

  it('a client that disconnects mid-download fails the copy and closes the file', async (t) => {
    const baseline = openDescriptors();
    const copies: Array<Promise<void>> = [];
    const port = await listen(createServer(blobHandler((copy) => copies.push(copy))), t);
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve) => {
        const req = get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
          let seen = 0;
          res.on('data', (chunk: Buffer) => {
            seen += chunk.length;
            if (seen > MiB) req.destroy();
          });
          res.on('close', resolve);
        });
        req.on('error', () => resolve());
      });
    }
    const outcomes = await Promise.allSettled(copies);
    assert.equal(outcomes.length, 5);
    for (const outcome of outcomes) assert.equal(outcome.status, 'rejected');
    // The listening socket is the only descriptor left of the test's own.
    assert.equal(await settledDescriptors(baseline + 1), baseline + 1);
  });

  it('serves many concurrent downloads byte for byte and leaks no descriptor', async (t) => {
    const port = await listen(createServer(blobHandler()), t);
    const baseline = openDescriptors();
    const ranges = Array.from({ length: 24 }, (_, i) => [i * 300_001, i * 300_001 + 2 * MiB - 1] as const);
    const results = await Promise.all([
      ...ranges.map(([start, end]) => fetchBytes(port, { range: `bytes=${start}-${end}` })),
      ...Array.from({ length: 8 }, () => fetchBytes(port)),
    ]);
    ranges.forEach(([start, end], i) => assert.ok(results[i]!.body.equals(content.subarray(start, end + 1)), `range ${i}`));
    for (const whole of results.slice(ranges.length)) assert.ok(whole.body.equals(content));
    assert.equal(await settledDescriptors(baseline), baseline);
  });

  it('a TLS response gets the exact bytes', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    await runBinary('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1']);
    const server = createTlsServer({ key: await readFile(key), cert: await readFile(cert) }, blobHandler());
    const port = await listen(server as unknown as Server, t);
    const body = await new Promise<Buffer>((resolve, reject) => {
      tlsRequest({ host: '127.0.0.1', port, path: '/', rejectUnauthorized: false, agent: false }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.on('end', () => resolve(Buffer.concat(parts)));
      })
        .on('error', reject)
        .end();
    });
    assert.ok(body.equals(content));
  });
});
