import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { Agent, createServer, get, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, request as tlsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { requireBinary, runBinary } from '../../../test/support/binaries.ts';
import { FileBody } from './file-body.ts';
import { libcSendfile, type LibcSendfile } from './libc-sendfile.ts';
import { sendFileTo, sendfileTarget, type FileCursor } from './socket-sendfile.ts';

const MiB = 1024 * 1024;
const content = randomBytes(9 * MiB + 17);
let dir: string;
let blob: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'angos-sendfile-'));
  blob = join(dir, 'blob');
  await writeFile(blob, content);
});
after(() => rm(dir, { recursive: true, force: true }));

/** Descriptors this process holds: every file and duplicated socket must be closed after each download. */
function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Serves the test blob as the blob handler does: head with a length, then the body by `copyInto`. */
function blobHandler(onCopy: (copy: Promise<void>, res: ServerResponse) => void = () => {}): RequestListener {
  return (req, res) => {
    void (async () => {
      const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      const start = range ? Number(range[1]) : 0;
      const end = range ? Number(range[2]) + 1 : undefined;
      const body = new FileBody(await open(blob, 'r'), start, end);
      res.writeHead(range ? 206 : 200, { 'content-length': (end ?? content.length) - start });
      const copy = body.copyInto(res);
      onCopy(copy, res);
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

describe('blob download by sendfile(2) over loopback HTTP', { skip: process.platform !== 'linux' && 'sendfile is Linux only' }, () => {
  it('libc sendfile loads on this platform', async () => {
    assert.ok(await libcSendfile(), 'koffi and libc sendfile must load on Linux, or downloads silently copy');
  });

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

  it('moves the bytes by sendfile, and a slow reader gets them through plain writes in between', async (t) => {
    const libc = await libcSendfile();
    assert.ok(libc);
    let bySendfile = 0;
    const counting: LibcSendfile = {
      ...libc,
      send: async (outFd, inFd, offset, count) => {
        const sent = await libc.send(outFd, inFd, offset, count);
        if (sent > 0) bySendfile += sent;
        return sent;
      },
    };
    const server = createServer((_req, res) => {
      void (async () => {
        const handle = await open(blob, 'r');
        res.writeHead(200, { 'content-length': content.length });
        const target = sendfileTarget(res);
        assert.ok(target, 'a plain-TCP response with a length is a sendfile target');
        await sendFileTo(target, cursorOf(handle), counting).finally(() => handle.close());
        res.end();
      })();
    });
    const port = await listen(server, t);
    assert.ok((await fetchBytes(port)).body.equals(content));
    assert.ok(bySendfile > content.length / 2, `only ${bySendfile} of ${content.length} bytes went by sendfile`);

    // A client that reads in small pauses keeps the socket full: sendfile meets EAGAIN and hands off.
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

  it('a client that disconnects mid-download fails the copy, closes the file and the duplicated socket', async (t) => {
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

  it('a TLS response is not a sendfile target and still gets the exact bytes', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    await runBinary('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1']);
    const targets: unknown[] = [];
    const handler = blobHandler((_copy, res) => targets.push(sendfileTarget(res)));
    const server = createTlsServer({ key: await readFile(key), cert: await readFile(cert) }, handler);
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
    assert.deepEqual(targets, [undefined]);
  });
});

/** The whole test blob as a cursor over an open file, as `FileBody` gives one. */
function cursorOf(handle: FileHandle): FileCursor {
  let position = 0;
  return {
    fd: handle.fd,
    get position() {
      return position;
    },
    nextLength: (wanted) => Math.min(wanted, content.length - position),
    advance: (bytes) => {
      if (bytes === 0) throw new Error('file ended early');
      position += bytes;
    },
    readChunk: async (buffer) => {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      position += bytesRead;
      return buffer.subarray(0, bytesRead);
    },
  };
}
