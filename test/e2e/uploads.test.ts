// Upload sessions: GET, PATCH, PUT and DELETE (docs/api.md, "Status, chunks and completion").
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectAlive, expectBlobCreated, expectEmpty, expectError, expectStatus, header } from '../support/expect.ts';
import { rawRequest, send, type HttpResponse } from '../support/http.ts';
import { content, sessionId, uniqueBlob } from '../support/oci.ts';
import { getBlob, patchChunk, pushBlob, startUpload, type Session } from '../support/registry.ts';
import { useServer } from '../support/registry-server.ts';

const N = 'test/app';

function expectProgress(response: HttpResponse, session: Session, range: string): void {
  expectEmpty(response, 202);
  assert.equal(header(response, 'location'), session.location);
  assert.equal(header(response, 'docker-upload-uuid'), session.id);
  assert.equal(header(response, 'range'), range);
}

describe('upload sessions', () => {
  const srv = useServer();

  async function expectCommitted(session: Session, range: string): Promise<void> {
    const response = await send(srv.url, 'GET', session.location);
    expectStatus(response, 204);
    assert.equal(response.body.length, 0);
    assert.equal(header(response, 'location'), session.location);
    assert.equal(header(response, 'docker-upload-uuid'), session.id);
    assert.equal(header(response, 'range'), range);
  }

  async function expectGone(session: Session): Promise<void> {
    expectError(await send(srv.url, 'GET', session.location), 404, 'BLOB_UPLOAD_UNKNOWN');
  }

  /** A session holding `hello` (5 bytes). */
  async function sessionWithHello(): Promise<Session> {
    const session = await startUpload(srv.url, N);
    expectProgress(await patchChunk(srv.url, session.location, 'hello', 0), session, '0-4');
    return session;
  }

  it('chunked upload: PATCH 0-4, PATCH 5-9, GET, PUT without body', async () => {
    const session = await sessionWithHello();
    expectProgress(await patchChunk(srv.url, session.location, 'world', 5), session, '0-9');
    await expectCommitted(session, '0-9');
    const digest = content('helloworld').digest;
    expectBlobCreated(await send(srv.url, 'PUT', `${session.location}?digest=${digest}`), N, digest);
    assert.equal((await getBlob(srv.url, N, digest)).body.toString(), 'helloworld');
    await expectGone(session);
  });

  it('PATCH without Content-Range appends at the end', async () => {
    const session = await startUpload(srv.url, N);
    expectProgress(await send(srv.url, 'PATCH', session.location, { body: 'abc' }), session, '0-2');
    expectProgress(await send(srv.url, 'PATCH', session.location, { body: 'def' }), session, '0-5');
    const digest = content('abcdef').digest;
    expectBlobCreated(await send(srv.url, 'PUT', `${session.location}?digest=${digest}`), N, digest);
  });

  it('PUT carries the final chunk', async () => {
    const session = await sessionWithHello();
    const digest = content('hello, final').digest;
    const done = await send(srv.url, 'PUT', `${session.location}?digest=${digest}`, {
      headers: { 'content-range': '5-11' },
      body: ', final',
    });
    expectBlobCreated(done, N, digest);
    assert.equal((await getBlob(srv.url, N, digest)).body.toString(), 'hello, final');
  });

  it('monolithic POST + PUT with the whole body, and a retried PUT after the session is gone → 201', async () => {
    const blob = uniqueBlob();
    const session = await startUpload(srv.url, N);
    expectBlobCreated(await send(srv.url, 'PUT', `${session.location}?digest=${blob.digest}`, { body: blob.bytes }), N, blob.digest);
    await expectGone(session);
    // The retry proves possession again (docs/api.md, "Status, chunks and completion"), so it succeeds even though
    // the session is gone.
    expectBlobCreated(await send(srv.url, 'PUT', `${session.location}?digest=${blob.digest}`, { body: blob.bytes }), N, blob.digest);
  });

  it('a PUT of bytes owned elsewhere through an unknown session proves possession and grants ownership', async () => {
    const blob = uniqueBlob();
    await pushBlob(srv.url, 'own/elsewhere', blob);
    const location = `/v2/own/here/blobs/uploads/${sessionId()}`;
    expectError(await send(srv.url, 'PUT', `${location}?digest=${blob.digest}`, { body: 'wrong' }), 400, 'DIGEST_INVALID');
    expectError(await getBlob(srv.url, 'own/here', blob.digest), 404, 'BLOB_UNKNOWN');
    expectBlobCreated(await send(srv.url, 'PUT', `${location}?digest=${blob.digest}`, { body: blob.bytes }), 'own/here', blob.digest);
    expectStatus(await getBlob(srv.url, 'own/here', blob.digest), 200);
  });

  it('chunked (no Content-Length) PATCH and PUT bodies are read to the end', async () => {
    const session = await startUpload(srv.url, N);
    expectProgress(await send(srv.url, 'PATCH', session.location, { chunks: ['ab', 'cd', 'e'] }), session, '0-4');
    expectProgress(
      await send(srv.url, 'PATCH', session.location, { headers: { 'content-range': '5-7' }, chunks: ['f', 'gh'] }),
      session,
      '0-7',
    );
    const digest = content('abcdefghij').digest;
    expectBlobCreated(await send(srv.url, 'PUT', `${session.location}?digest=${digest}`, { chunks: ['i', 'j'] }), N, digest);
  });

  describe('PATCH errors', () => {
    it('out-of-order Content-Range → 416 SIZE_INVALID, nothing committed', async () => {
      const session = await sessionWithHello();
      expectError(await patchChunk(srv.url, session.location, 'abcde', 3), 416, 'SIZE_INVALID');
      await expectCommitted(session, '0-4');
      expectError(await patchChunk(srv.url, session.location, 'abcde', 6), 416, 'SIZE_INVALID');
      await expectCommitted(session, '0-4');
    });

    it('Content-Length ≠ range length → 416', async () => {
      const session = await sessionWithHello();
      const response = await send(srv.url, 'PATCH', session.location, { headers: { 'content-range': '5-9' }, body: 'abc' });
      expectError(response, 416, 'SIZE_INVALID');
      await expectCommitted(session, '0-4');
    });

    for (const range of ['bytes=5-9', '5-', '-9', '9-5', '5-9-', '5 - 9', 'a-b', '5', '+5-9', '5-9,10-11']) {
      it(`Content-Range ${JSON.stringify(range)} → 416`, async () => {
        const session = await sessionWithHello();
        const response = await send(srv.url, 'PATCH', session.location, { headers: { 'content-range': range }, body: 'abcde' });
        expectError(response, 416, 'SIZE_INVALID');
        await expectCommitted(session, '0-4');
      });
    }

    it('a malformed Content-Range is refused even for an unknown session (check 1 before 3)', async () => {
      const location = `/v2/${N}/blobs/uploads/${sessionId()}`;
      const response = await send(srv.url, 'PATCH', location, { headers: { 'content-range': 'bytes=0-4' }, body: 'abcde' });
      expectError(response, 416, 'SIZE_INVALID');
    });

    for (const length of ['abc', '-1', '5, 6', '1e1']) {
      it(`Content-Length: ${length} → 400 and the server keeps serving`, async () => {
        const session = await sessionWithHello();
        const response = await rawRequest(
          srv.url,
          `PATCH ${session.location} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\nabcde`,
        );
        // Node's HTTP parser may refuse the framing before the registry sees it, so only the status is fixed.
        expectStatus(response, 400);
        await expectAlive(srv.url);
        await expectCommitted(session, '0-4');
      });
    }

    it('conflicting Content-Length headers → 400', async () => {
      const session = await sessionWithHello();
      const response = await rawRequest(
        srv.url,
        `PATCH ${session.location} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\nContent-Length: 5\r\nConnection: close\r\n\r\nabcde`,
      );
      expectStatus(response, 400);
      await expectAlive(srv.url);
    });

    it('chunked PATCH without length → 202', async () => {
      const session = await sessionWithHello();
      expectProgress(await send(srv.url, 'PATCH', session.location, { chunks: ['wor', 'ld'] }), session, '0-9');
    });

    it('a chunked body that does not fill its Content-Range → 416 and the session is deleted', async () => {
      const session = await sessionWithHello();
      const response = await send(srv.url, 'PATCH', session.location, { headers: { 'content-range': '5-9' }, chunks: ['ab'] });
      expectError(response, 416, 'SIZE_INVALID');
      await expectGone(session);
    });

    it('a chunked body that overflows its Content-Range → 416 and the session is deleted', async () => {
      const session = await sessionWithHello();
      const response = await send(srv.url, 'PATCH', session.location, { headers: { 'content-range': '5-6' }, chunks: ['abcdef'] });
      expectError(response, 416, 'SIZE_INVALID');
      await expectGone(session);
    });
  });

  describe('PUT errors', () => {
    it('wrong digest → 400 DIGEST_INVALID and the session is gone', async () => {
      const session = await sessionWithHello();
      const wrong = content('not hello').digest;
      expectError(await send(srv.url, 'PUT', `${session.location}?digest=${wrong}`), 400, 'DIGEST_INVALID');
      await expectGone(session);
      expectError(await getBlob(srv.url, N, wrong), 404, 'BLOB_UNKNOWN');
    });

    for (const query of ['', '?digest=', '?digest=sha256:zz', '?digest=md5:abc', '?other=1']) {
      it(`PUT ${JSON.stringify(query)} → 400 UNSUPPORTED, session kept`, async () => {
        const session = await sessionWithHello();
        expectError(await send(srv.url, 'PUT', `${session.location}${query}`), 400, 'UNSUPPORTED');
        await expectCommitted(session, '0-4');
      });
    }

    it('a repeated digest parameter → 400 UNSUPPORTED', async () => {
      const session = await sessionWithHello();
      const digest = content('hello').digest;
      expectError(await send(srv.url, 'PUT', `${session.location}?digest=${digest}&digest=${digest}`), 400, 'UNSUPPORTED');
    });

    it('a chunked final chunk that does not fill its Content-Range → 416 and the session is deleted', async () => {
      const session = await sessionWithHello();
      const tail = `, ${sessionId()}`;
      const digest = content(`hello${tail}`).digest;
      const response = await send(srv.url, 'PUT', `${session.location}?digest=${digest}`, {
        headers: { 'content-range': `5-${4 + tail.length}` },
        chunks: [tail.slice(0, 4)],
      });
      expectError(response, 416, 'SIZE_INVALID');
      await expectGone(session);
      expectError(await getBlob(srv.url, N, digest), 404, 'BLOB_UNKNOWN');
    });

    it('a final chunk at the wrong offset → 416, nothing committed', async () => {
      const session = await sessionWithHello();
      const digest = content('helloXY').digest;
      const response = await send(srv.url, 'PUT', `${session.location}?digest=${digest}`, {
        headers: { 'content-range': '4-5' },
        body: 'XY',
      });
      expectError(response, 416, 'SIZE_INVALID');
      await expectCommitted(session, '0-4');
    });
  });

  describe('session identity', () => {
    it('an unknown valid session: GET 404, PATCH 404, PUT (blob absent) 404, DELETE 204', async () => {
      const location = `/v2/${N}/blobs/uploads/${sessionId()}`;
      expectError(await send(srv.url, 'GET', location), 404, 'BLOB_UPLOAD_UNKNOWN');
      expectError(await patchChunk(srv.url, location, 'abc', 0), 404, 'BLOB_UPLOAD_UNKNOWN');
      expectError(await send(srv.url, 'PUT', `${location}?digest=${uniqueBlob().digest}`), 404, 'BLOB_UPLOAD_UNKNOWN');
      const deleted = await send(srv.url, 'DELETE', location);
      expectStatus(deleted, 204);
      assert.equal(deleted.body.length, 0);
    });

    const id = '123e4567-e89b-42d3-a456-426614174000';
    for (const bad of [id.toUpperCase(), `{${id}}`, `urn:uuid:${id}`, id.replace(/-/g, ''), `${id}0`, 'not-a-uuid']) {
      it(`malformed session id ${bad} → GET 404 NAME_UNKNOWN, PATCH/PUT/DELETE 400 UNSUPPORTED`, async () => {
        const location = `/v2/${N}/blobs/uploads/${bad}`;
        expectError(await send(srv.url, 'GET', location), 404, 'NAME_UNKNOWN');
        expectError(await patchChunk(srv.url, location, 'abc', 0), 400, 'UNSUPPORTED');
        expectError(await send(srv.url, 'PUT', `${location}?digest=${uniqueBlob().digest}`), 400, 'UNSUPPORTED');
        expectError(await send(srv.url, 'DELETE', location), 400, 'UNSUPPORTED');
      });
    }

    it('DELETE aborts a session: 204, then GET/PATCH 404, and DELETE again 204', async () => {
      const session = await sessionWithHello();
      expectStatus(await send(srv.url, 'DELETE', session.location), 204);
      await expectGone(session);
      expectError(await patchChunk(srv.url, session.location, 'world', 5), 404, 'BLOB_UPLOAD_UNKNOWN');
      expectStatus(await send(srv.url, 'DELETE', session.location), 204);
    });

    it('a session used through another namespace → 404 BLOB_UPLOAD_UNKNOWN, still usable in its own', async () => {
      const session = await sessionWithHello();
      const foreign = session.location.replace(`/v2/${N}/`, '/v2/other/ns/');
      expectError(await send(srv.url, 'GET', foreign), 404, 'BLOB_UPLOAD_UNKNOWN');
      expectError(await patchChunk(srv.url, foreign, 'world', 5), 404, 'BLOB_UPLOAD_UNKNOWN');
      const digest = content('hello').digest;
      expectError(await send(srv.url, 'PUT', `${foreign}?digest=${uniqueBlob().digest}`), 404, 'BLOB_UPLOAD_UNKNOWN');
      await expectCommitted(session, '0-4');
      expectBlobCreated(await send(srv.url, 'PUT', `${session.location}?digest=${digest}`), N, digest);
    });
  });
});
