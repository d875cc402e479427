// Hostile and malformed requests: each gets its specified answer (or, where Node's HTTP parser refuses the
// message before any route runs, a 4xx) and the process keeps serving — every case ends with a `/v2/` 200.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { expectAlive, expectError, expectStatus, header } from '../support/expect.ts';
import { rawRequest, request, send } from '../support/http.ts';
import { imageManifest, OCI_MANIFEST, sessionId } from '../support/oci.ts';
import { patchChunk, putManifest, startUpload } from '../support/registry.ts';
import { useServer } from '../support/registry-server.ts';

const N = 'test/app';

describe('bad input', () => {
  const srv = useServer();

  describe('paths and queries the router must refuse', () => {
    const gets = [
      '/v2/../etc/passwd',
      '/v2/test/app/blobs/uploads/..%2F..%2Fetc',
      '/v2/test/app/manifests/..',
      '/v2/test/app/manifests/%00',
      '/v2/test/app/manifests/%FF%FE',
      '/v2/test%00app/tags/list',
      '/v2/test/app/tags/list?n=%ZZ',
      '/v2/test/app/tags/list?n=99999999999999999999',
      `/v2/${'a/'.repeat(4000)}a/tags/list`,
      `/v2/test/app/manifests/${'v'.repeat(10_000)}`,
    ];
    for (const path of gets) {
      it(`GET ${path.length > 50 ? `${path.slice(0, 40)}… (${path.length})` : path} → 404 NAME_UNKNOWN`, async () => {
        expectError(await request(srv.url, path), 404, 'NAME_UNKNOWN');
        await expectAlive(srv.url);
      });
    }

    const writes: Array<[string, string]> = [
      ['POST', `/v2/${N}/blobs/uploads/?digest=%ZZ`],
      ['POST', `/v2/${N}/blobs/uploads/?digest=sha256%3A${'a'.repeat(64)}%00`],
      ['PUT', `/v2/${N}/manifests/%FF`],
      ['DELETE', `/v2/${N}/manifests/%C3%A9`],
      ['PATCH', `/v2/${N}/blobs/uploads/${sessionId()}%00`],
    ];
    for (const [method, path] of writes) {
      it(`${method} ${path.slice(0, 60)} → 400 UNSUPPORTED`, async () => {
        expectError(await send(srv.url, method, path, { headers: { 'content-type': OCI_MANIFEST }, body: '{}' }), 400, 'UNSUPPORTED');
        await expectAlive(srv.url);
      });
    }

    it('a by-digest push with an invalid UTF-8 ?tag= → 400 UNSUPPORTED', async () => {
      const manifest = imageManifest();
      expectError(await putManifest(srv.url, N, manifest.digest, manifest, { query: '?tag=v%FF' }), 400, 'UNSUPPORTED');
      await expectAlive(srv.url);
    });
  });

  describe('messages Node refuses before routing', () => {
    const cases: Array<[string, Buffer | string]> = [
      ['a raw non-ASCII byte in the path', Buffer.concat([Buffer.from(`GET /v2/${N}/manifests/v`), Buffer.from([0xff]), Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')])],
      ['a garbage request line', 'GARBAGE\r\n\r\n'],
      ['a 100 KB header value', `GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\nConnection: close\r\n\r\n`],
      ['a 100 KB URL', `GET /v2/${'a'.repeat(100_000)}/tags/list HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
      ['5000 headers', `GET /v2/ HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 5000 }, (_, i) => `X-H${i}: v\r\n`).join('')}Connection: close\r\n\r\n`],
    ];
    for (const [label, bytes] of cases) {
      it(`${label} → 4xx, server keeps serving`, async () => {
        const response = await rawRequest(srv.url, bytes);
        // docs/api.md, "Routing" fixes answers for requests that reach routing; these never do, so any client error
        // is right.
        assert.ok(response.status >= 400 && response.status < 500, `status ${response.status}`);
        await expectAlive(srv.url);
      });
    }

    it('a malformed chunk size in a PATCH body → 400, the session stays usable', async () => {
      const session = await startUpload(srv.url, N);
      const response = await rawRequest(
        srv.url,
        `PATCH ${session.location} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`,
      );
      expectStatus(response, 400);
      await expectAlive(srv.url);
      expectStatus(await send(srv.url, 'GET', session.location), 204);
    });

    it('an HTTP/1.0 request is still served', async () => {
      const response = await rawRequest(srv.url, 'GET /v2/ HTTP/1.0\r\n\r\n');
      expectStatus(response, 200);
      assert.equal(header(response, 'docker-distribution-api-version'), 'registry/2.0');
    });
  });

  describe('hostile bodies', () => {
    it('a deeply nested JSON manifest → 400 MANIFEST_INVALID', async () => {
      for (const body of ['['.repeat(200_000) + ']'.repeat(200_000), '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)]) {
        const response = await putManifest(srv.url, N, 'deep', imageManifest(), { body });
        expectError(response, 400, 'MANIFEST_INVALID');
        await expectAlive(srv.url);
      }
    });

    it('a client that disconnects mid-PATCH leaves the server and the session usable', async () => {
      const session = await startUpload(srv.url, N);
      const url = new URL(srv.url);
      await new Promise<void>((resolve, reject) => {
        const socket = connect(Number(url.port), url.hostname, () => {
          socket.on('error', () => undefined);
          socket.write(`PATCH ${session.location} HTTP/1.1\r\nHost: x\r\nContent-Range: 0-99\r\nContent-Length: 100\r\n\r\n${'x'.repeat(50)}`, () => {
            socket.destroy();
            resolve();
          });
        });
        socket.on('error', reject);
      });
      await expectAlive(srv.url);
      const status = await send(srv.url, 'GET', session.location);
      expectStatus(status, 204);
      assert.match(header(status, 'range') ?? '', /^0-\d+$/);
    });

    it('a manifest PUT whose body never arrives in full does not block other requests', async () => {
      const url = new URL(srv.url);
      const socket = connect(Number(url.port), url.hostname);
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => {
        socket.write(`PUT /v2/${N}/manifests/slow HTTP/1.1\r\nHost: x\r\nContent-Type: ${OCI_MANIFEST}\r\nContent-Length: 1000\r\n\r\n{"schema`, () => resolve());
      });
      await expectAlive(srv.url);
      expectError(await request(srv.url, `/v2/${N}/manifests/slow`), 404, 'MANIFEST_UNKNOWN');
      socket.destroy();
      await expectAlive(srv.url);
    });

    it('PATCH with a huge Content-Range bound → 416 and the session is intact', async () => {
      const session = await startUpload(srv.url, N);
      expectStatus(await patchChunk(srv.url, session.location, 'abc', 0), 202);
      const response = await send(srv.url, 'PATCH', session.location, {
        headers: { 'content-range': `3-${'9'.repeat(5000)}` },
        body: 'def',
      });
      expectError(response, 416, 'SIZE_INVALID');
      const status = await send(srv.url, 'GET', session.location);
      expectStatus(status, 204);
      assert.equal(header(status, 'range'), '0-2');
      await expectAlive(srv.url);
    });
  });
});
