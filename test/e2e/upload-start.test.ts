// POST …/blobs/uploads/ (docs/api.md, "Starting an upload"): sessions, single-request uploads, digest-algorithm.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectBlobCreated, expectBody, expectError, expectNewSession, expectStatus, header } from '../support/expect.ts';
import { send } from '../support/http.ts';
import { content, sha256, sha512, uniqueBlob } from '../support/oci.ts';
import { getBlob, headBlob, patchChunk, pushBlob, startUpload } from '../support/registry.ts';
import { useServer } from '../support/registry-server.ts';

const N = 'test/app';

describe('upload start', () => {
  const srv = useServer();

  it('POST → 202 with a lower-case UUID session, Range 0-0', async () => {
    const first = expectNewSession(await send(srv.url, 'POST', `/v2/${N}/blobs/uploads/`), N);
    const second = expectNewSession(await send(srv.url, 'POST', `/v2/${N}/blobs/uploads/`), N);
    assert.notEqual(first, second, 'every session has its own id');
    const status = await send(srv.url, 'GET', first);
    expectStatus(status, 204);
    assert.equal(header(status, 'range'), '0-0');
  });

  it('POST without digest does not read a body: the session starts empty', async () => {
    const location = expectNewSession(await send(srv.url, 'POST', `/v2/${N}/blobs/uploads/`, { body: 'ignored' }), N);
    const status = await send(srv.url, 'GET', location);
    expectStatus(status, 204);
    assert.equal(header(status, 'range'), '0-0');
  });

  it('a session bound by ?digest= (chunked) cannot be closed with another algorithm', async () => {
    const blob = uniqueBlob();
    const location = expectNewSession(
      await send(srv.url, 'POST', `/v2/${N}/blobs/uploads/?digest=${blob.digest}`, { chunks: [blob.bytes] }),
      N,
    );
    expectStatus(await patchChunk(srv.url, location, blob.bytes, 0), 202);
    expectError(await send(srv.url, 'PUT', `${location}?digest=${sha512(blob.bytes)}`), 400, 'DIGEST_INVALID');
  });

  describe('single-request upload', () => {
    const hello = content('hello');

    it('a body that does not match the digest → 400 DIGEST_INVALID, nothing stored', async () => {
      const response = await send(srv.url, 'POST', `/v2/single/one/blobs/uploads/?digest=${hello.digest}`, { body: 'hellx' });
      expectError(response, 400, 'DIGEST_INVALID');
      expectError(await headBlob(srv.url, 'single/one', hello.digest), 404, 'BLOB_UNKNOWN', { head: true });
      expectError(await headBlob(srv.url, 'single/one', sha256('hellx')), 404, 'BLOB_UNKNOWN', { head: true });
    });

    it('the matching body → 201, then HEAD → 200 Content-Length 5', async () => {
      const response = await send(srv.url, 'POST', `/v2/single/one/blobs/uploads/?digest=${hello.digest}`, { body: 'hello' });
      expectBlobCreated(response, 'single/one', hello.digest);
      const head = await headBlob(srv.url, 'single/one', hello.digest);
      expectStatus(head, 200);
      assert.equal(header(head, 'content-length'), '5');
      assert.equal(header(head, 'accept-ranges'), 'bytes');
      assert.equal(header(head, 'docker-content-digest'), hello.digest);
    });

    it('an owned digest again → 201; its body is not read', async () => {
      const again = await send(srv.url, 'POST', `/v2/single/one/blobs/uploads/?digest=${hello.digest}`, { body: 'hello' });
      expectBlobCreated(again, 'single/one', hello.digest);
      const ignored = await send(srv.url, 'POST', `/v2/single/one/blobs/uploads/?digest=${hello.digest}`, { body: 'other bytes' });
      expectBlobCreated(ignored, 'single/one', hello.digest);
      const read = await getBlob(srv.url, 'single/one', hello.digest);
      assert.equal(read.body.toString(), 'hello');
    });

    it('the empty blob with Content-Length: 0 → 201', async () => {
      const empty = sha256('');
      const response = await send(srv.url, 'POST', `/v2/single/one/blobs/uploads/?digest=${empty}`, {
        headers: { 'content-length': '0' },
      });
      expectBlobCreated(response, 'single/one', empty);
      const head = await headBlob(srv.url, 'single/one', empty);
      expectStatus(head, 200);
      assert.equal(header(head, 'content-length'), '0');
    });

    it('bytes stored for another namespace need proof of possession', async () => {
      const blob = uniqueBlob();
      await pushBlob(srv.url, 'single/owner', blob);
      const wrong = await send(srv.url, 'POST', `/v2/single/two/blobs/uploads/?digest=${blob.digest}`, { body: 'not it' });
      expectError(wrong, 400, 'DIGEST_INVALID');
      expectError(await getBlob(srv.url, 'single/two', blob.digest), 404, 'BLOB_UNKNOWN');
      const right = await send(srv.url, 'POST', `/v2/single/two/blobs/uploads/?digest=${blob.digest}`, { body: blob.bytes });
      expectBlobCreated(right, 'single/two', blob.digest);
      const read = await getBlob(srv.url, 'single/two', blob.digest);
      expectStatus(read, 200);
      assert.deepEqual(read.body, blob.bytes);
    });

    it('a sha512 digest → 201 with a sha512 Location, readable by that digest', async () => {
      const blob = content(`sha512-${Math.random()}`, sha512);
      const response = await send(srv.url, 'POST', `/v2/${N}/blobs/uploads/?digest=${blob.digest}`, { body: blob.bytes });
      expectBlobCreated(response, N, blob.digest);
      assert.match(header(response, 'location') ?? '', /\/blobs\/sha512:[0-9a-f]{128}$/);
      const read = await getBlob(srv.url, N, blob.digest);
      expectStatus(read, 200);
      assert.equal(header(read, 'docker-content-digest'), blob.digest);
      assert.deepEqual(read.body, blob.bytes);
    });

    it('a chunked body with ?digest= opens a session bound to the digest (body not read)', async () => {
      const blob = uniqueBlob();
      const response = await send(srv.url, 'POST', `/v2/${N}/blobs/uploads/?digest=${blob.digest}&digest-algorithm=sha512`, {
        chunks: [blob.bytes],
      });
      const location = expectNewSession(response, N);
      expectError(await getBlob(srv.url, N, blob.digest), 404, 'BLOB_UNKNOWN');
      expectStatus(await patchChunk(srv.url, location, blob.bytes, 0), 202);
      // The sha512 hint is ignored: the session hashes with the digest's algorithm.
      expectBlobCreated(await send(srv.url, 'PUT', `${location}?digest=${blob.digest}`), N, blob.digest);
    });
  });

  describe('malformed POST queries → 400 UNSUPPORTED', () => {
    const digest = sha256('x');
    for (const query of [
      '?digest=sha256:zz',
      '?digest=',
      `?digest=${digest.toUpperCase()}`,
      `?digest=${digest}&digest=${digest}`,
      '?digest-algorithm=md5',
      '?digest-algorithm=',
      '?digest-algorithm=sha256&digest-algorithm=sha256',
      '?mount=sha256:zz',
      `?mount=${digest}&mount=${digest}`,
      `?mount=${digest}&from=Bad`,
      '?from=-bad',
      '?from=a//b',
    ]) {
      it(`POST ${query}`, async () => {
        expectError(await send(srv.url, 'POST', `/v2/${N}/blobs/uploads/${query}`), 400, 'UNSUPPORTED');
      });
    }
  });

  describe('digest-algorithm', () => {
    it('a sha512-bound session closed with a sha256 digest → 400 DIGEST_INVALID', async () => {
      const blob = uniqueBlob();
      const session = await startUpload(srv.url, N, '?digest-algorithm=sha512');
      expectStatus(await patchChunk(srv.url, session.location, blob.bytes, 0), 202);
      expectError(await send(srv.url, 'PUT', `${session.location}?digest=${blob.digest}`), 400, 'DIGEST_INVALID');
      expectError(await send(srv.url, 'GET', session.location), 404, 'BLOB_UPLOAD_UNKNOWN');
      expectError(await getBlob(srv.url, N, blob.digest), 404, 'BLOB_UNKNOWN');
    });

    it('a sha512-bound session closed with its sha512 digest → 201 at a sha512 Location', async () => {
      const blob = content(`sha512 body ${Math.random()}`, sha512);
      const session = await startUpload(srv.url, N, '?digest-algorithm=sha512');
      expectStatus(await patchChunk(srv.url, session.location, blob.bytes, 0), 202);
      const done = await send(srv.url, 'PUT', `${session.location}?digest=${blob.digest}`);
      expectBlobCreated(done, N, blob.digest);
      expectBody(await getBlob(srv.url, N, blob.digest), blob.bytes);
    });

    it('a sha256-bound session closed with sha256 → 201', async () => {
      const blob = uniqueBlob();
      const session = await startUpload(srv.url, N, '?digest-algorithm=sha256');
      expectStatus(await patchChunk(srv.url, session.location, blob.bytes, 0), 202);
      expectBlobCreated(await send(srv.url, 'PUT', `${session.location}?digest=${blob.digest}`), N, blob.digest);
    });

    it('a sha256-bound session closed with a sha512 digest → 400 DIGEST_INVALID', async () => {
      const blob = content(`bound-256 ${Math.random()}`, sha512);
      const session = await startUpload(srv.url, N, '?digest-algorithm=sha256');
      expectStatus(await patchChunk(srv.url, session.location, blob.bytes, 0), 202);
      expectError(await send(srv.url, 'PUT', `${session.location}?digest=${blob.digest}`), 400, 'DIGEST_INVALID');
    });

    it('an unbound session hashes under both algorithms', async () => {
      for (const digestOf of [sha256, sha512]) {
        const blob = content(`unbound ${Math.random()}`, digestOf);
        const session = await startUpload(srv.url, N);
        expectStatus(await patchChunk(srv.url, session.location, blob.bytes.subarray(0, 4), 0), 202);
        expectStatus(await patchChunk(srv.url, session.location, blob.bytes.subarray(4), 4), 202);
        expectBlobCreated(await send(srv.url, 'PUT', `${session.location}?digest=${blob.digest}`), N, blob.digest);
        assert.deepEqual((await getBlob(srv.url, N, blob.digest)).body, blob.bytes);
      }
    });
  });
});
