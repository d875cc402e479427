// The remote client's connection behaviour (src/remote/transport.ts, docs/remote.md) against small scripted
// HTTP servers on loopback: redirects and where Authorization goes, the manifest size limit, the read timeout,
// pagination, 403, and drained error bodies.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { MemoryCache } from '../../src/cache/memory-cache.ts';
import type { RemoteClientConfig } from '../../src/config/types.ts';
import { RemoteError, RemoteRegistry } from '../../src/remote/index.ts';
import { remoteConfig } from '../support/distribution.ts';
import { sha256 } from '../support/oci.ts';

interface Scripted {
  url: string;
  /** TCP connections accepted so far. */
  connections: number;
  /** The Authorization header of every request, by path. */
  authorizations: Array<[string, string | undefined]>;
  close(): Promise<void>;
}

const servers: Scripted[] = [];
after(async () => {
  for (const server of servers) await server.close();
});

async function scripted(handle: (req: IncomingMessage, res: ServerResponse, self: Scripted) => void, host = '127.0.0.1'): Promise<Scripted> {
  const server = createServer((req, res) => {
    self.authorizations.push([req.url!, req.headers.authorization]);
    handle(req, res, self);
  });
  server.on('connection', () => (self.connections += 1));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const self: Scripted = {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    connections: 0,
    authorizations: [],
    async close() {
      server.closeAllConnections();
      server.close();
    },
  };
  servers.push(self);
  return self;
}

const MAX_MANIFEST = 1024;
const client = (url: string, overrides: Partial<RemoteClientConfig> = {}) =>
  new RemoteRegistry(remoteConfig(url, overrides), { cache: new MemoryCache(), maxManifestSize: () => MAX_MANIFEST });
const BLOB = Buffer.from('blob bytes');
const DIGEST = sha256(BLOB);
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function text(body: NodeJS.ReadableStream): Promise<string> {
  let all = '';
  for await (const chunk of body) all += String(chunk);
  return all;
}

describe('redirects', () => {
  it('a cross-origin redirect is followed without Authorization; a same-origin one keeps it', async () => {
    const cdn = await scripted((_req, res) => res.writeHead(200, { 'content-length': BLOB.length }).end(BLOB), 'localhost');
    const origin = await scripted((req, res) => {
      if (req.headers.authorization === undefined) res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end('{"errors":[]}');
      else if (req.url!.startsWith('/v2/')) res.writeHead(307, { location: `/storage${req.url}` }).end();
      else res.writeHead(302, { location: `${cdn.url}/signed?sig=secret` }).end();
    });
    const remote = client(origin.url, { username: 'u', password: 'p' });
    const blob = await remote.getBlob('app', DIGEST);
    assert.equal(await text(blob.body), BLOB.toString());
    assert.deepEqual(origin.authorizations, [
      [`/v2/app/blobs/${DIGEST}`, undefined],
      [`/v2/app/blobs/${DIGEST}`, basic('u', 'p')],
      [`/storage/v2/app/blobs/${DIGEST}`, basic('u', 'p')],
    ]);
    assert.deepEqual(cdn.authorizations, [['/signed?sig=secret', undefined]]);
    await remote.close();
  });

  it('max_redirect bounds the hops: 0 makes any redirect a failure', async () => {
    const origin = await scripted((req, res) => res.writeHead(307, { location: `${req.url!.split('?')[0]}?hop=${Math.random()}` }).end('moved'));
    for (const maxRedirect of [0, 3]) {
      const remote = client(origin.url, { maxRedirect });
      const before = origin.authorizations.length;
      await assert.rejects(remote.headBlob('app', DIGEST), (error: RemoteError) => error instanceof RemoteError && /redirect limit/.test(error.message));
      assert.equal(origin.authorizations.length - before, maxRedirect + 1);
      await remote.close();
    }
  });
});

describe('manifest size limit', () => {
  it('a Content-Length over max_manifest_size fails before the body is read', async () => {
    // Headers promise more than the limit, then nothing: reading would wait for the read timeout.
    const origin = await scripted((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': MAX_MANIFEST + 1 });
      res.flushHeaders();
    });
    const remote = client(origin.url);
    const started = Date.now();
    await assert.rejects(remote.getManifest('app', 'v1', []), /over max_manifest_size/);
    assert.ok(Date.now() - started < 5000);
    await remote.close();
  });

  it('a body without Content-Length is cut past the limit; one at the limit is read, its digest computed', async () => {
    let size = MAX_MANIFEST + 1;
    const origin = await scripted((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
      res.end(Buffer.alloc(size, 'x'));
    });
    const remote = client(origin.url);
    await assert.rejects(remote.getManifest('app', 'v1', []), /exceeds 1024 bytes/);
    size = MAX_MANIFEST;
    const got = await remote.getManifest('app', 'v1', []);
    assert.deepEqual([got.body.length, got.digest, got.mediaType], [MAX_MANIFEST, sha256(Buffer.alloc(size, 'x')), 'application/vnd.oci.image.manifest.v1+json']);
    await remote.close();
  });
});

describe('read timeout', () => {
  it('a server silent before its headers, or in the middle of a body, fails the request', async () => {
    const silent = await scripted(() => undefined);
    const stalled = await scripted((_req, res) => {
      res.writeHead(200, { 'content-length': 100 });
      res.write(Buffer.alloc(10));
    });
    const remote = client(silent.url, { readTimeoutSecs: 1 });
    const started = Date.now();
    await assert.rejects(remote.headManifest('app', 'v1', []), (error: RemoteError) => error instanceof RemoteError && error.status === undefined);
    assert.ok(Date.now() - started < 4000);
    await remote.close();
    const other = client(stalled.url, { readTimeoutSecs: 1 });
    const blob = await other.getBlob('app', DIGEST);
    await assert.rejects(text(blob.body), /timeout/i);
    await other.close();
  });

  it('a slow body that keeps progressing is never cut', async () => {
    const chunks = 8;
    const origin = await scripted((_req, res) => {
      res.writeHead(200, { 'content-length': chunks });
      let sent = 0;
      const timer = setInterval(() => {
        res.write('x');
        if (++sent === chunks) {
          clearInterval(timer);
          res.end();
        }
      }, 400);
    });
    const remote = client(origin.url, { readTimeoutSecs: 1 });
    const blob = await remote.getBlob('app', DIGEST);
    assert.equal(await text(blob.body), 'x'.repeat(chunks)); // 3.2 s in all, over three times the read timeout
    await remote.close();
  });
});

describe('answers', () => {
  it('403 is a denied failure; error bodies are drained so the connection is reused', async () => {
    let status = 500;
    const origin = await scripted((_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'X', detail: 'y'.repeat(4000) }] })));
    const remote = client(origin.url);
    for (let i = 0; i < 10; i += 1) await assert.rejects(remote.getManifest('app', 'v1', []), (error: RemoteError) => error.status === 500 && !error.denied);
    await assert.rejects(remote.blobExists('app', DIGEST), (error: RemoteError) => error.status === 500);
    status = 403;
    await assert.rejects(remote.getBlob('app', DIGEST), (error: RemoteError) => error.status === 403 && error.denied);
    await assert.rejects(remote.request({ method: 'DELETE', path: '/v2/app/manifests/v1' }), (error: RemoteError) => error.denied);
    // An unread body would hold its connection: 13 failures would have opened 13. Drained, they share a few (undici
    // may open another while one is being handed back, and closes one after a HEAD whose answer had a length).
    assert.ok(origin.connections <= 4, `${origin.connections} connections`);
    await remote.close();
  });

  it('headers each operation requires: a blob HEAD without Docker-Content-Digest, a GET without Content-Length', async () => {
    const origin = await scripted((_req, res) => {
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      res.end('abc');
    });
    const remote = client(origin.url);
    await assert.rejects(remote.headBlob('app', DIGEST), /Content-Length|Docker-Content-Digest/);
    await assert.rejects(remote.getBlob('app', DIGEST), /without a Content-Length/);
    await assert.rejects(remote.headManifest('app', 'v1', []), /without a Content-Length/);
    await remote.close();
  });

  it('listings follow Link rel="next", skip invalid tags, stop on a repeated page, and read 404 as empty', async () => {
    const origin = await scripted((req, res) => {
      const page = new URL(req.url!, 'http://x').searchParams.get('page') ?? '1';
      if (req.url!.startsWith('/v2/none/')) return void res.writeHead(404).end('{}');
      if (req.url!.includes('/referrers/')) {
        const manifests = page === '1'
          ? [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: DIGEST, size: 3, artifactType: 'a/b', annotations: { k: 'v' } }, { digest: 'bad' }]
          : [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256('two'), size: 4 }];
        const link = page === '1' ? { link: `<${req.url!.split('?')[0]}?page=2>; rel="next"` } : {};
        return void res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json', ...link }).end(JSON.stringify({ schemaVersion: 2, manifests }));
      }
      const tags = { '1': ['a', '-bad', 'b'], '2': ['c', 5], '3': ['d'] }[page] ?? [];
      // Page 3 points back at page 2: the listing stops there.
      const next = { '1': '</v2/app/tags/list?page=2>; rel="next"', '2': '<?page=3>; rel="next"', '3': '</v2/app/tags/list?page=2>; rel="next"' }[page];
      res.writeHead(200, { 'content-type': 'application/json', ...(next ? { link: next } : {}) }).end(JSON.stringify({ name: 'app', tags }));
    });
    const remote = client(origin.url);
    assert.deepEqual(await remote.listTags('app'), ['a', 'b', 'c', 'd']);
    assert.deepEqual(await remote.listTags('none'), []);
    assert.deepEqual(await remote.listReferrers('app', DIGEST), [
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: DIGEST, size: 3, artifactType: 'a/b', annotations: { k: 'v' } },
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256('two'), size: 4 },
    ]);
    assert.deepEqual(await remote.listReferrers('none', DIGEST), []);
    await remote.close();
  });

  it('a streamed request body is not resent after a 401', async () => {
    const origin = await scripted((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end());
    });
    const remote = client(origin.url, { username: 'u', password: 'p' });
    const { Readable } = await import('node:stream');
    await assert.rejects(
      remote.request({ method: 'PATCH', path: '/v2/app/blobs/uploads/x', body: Readable.from([Buffer.from('abc')]), headers: { 'content-length': '3' } }),
      (error: RemoteError) => error.status === 401 && /cannot be resent/.test(error.message),
    );
    assert.equal(origin.authorizations.length, 1);
    await remote.close();
  });
});
