// `global.max_blob_size`, the cumulative bytes of one upload (docs/api.md, "Uploads").
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectAlive, expectEmpty, expectError, expectStatus, header } from '../support/expect.ts';
import { send } from '../support/http.ts';
import { content } from '../support/oci.ts';
import { getBlob, headBlob, patchChunk, startUpload, type Session } from '../support/registry.ts';
import { useServer } from '../support/registry-server.ts';

const N = 'test/app';

describe('max_blob_size = 10 bytes', () => {
  const srv = useServer({ global: { max_blob_size: 10 } });

  async function expectGone(session: Session): Promise<void> {
    expectError(await send(srv.url, 'GET', session.location), 404, 'BLOB_UPLOAD_UNKNOWN');
  }

  it('PATCH with Content-Length: 11 → 413 BLOB_UPLOAD_INVALID, then the session is 404', async () => {
    const session = await startUpload(srv.url, N);
    expectError(await patchChunk(srv.url, session.location, '01234567890', 0), 413, 'BLOB_UPLOAD_INVALID');
    await expectGone(session);
    await expectAlive(srv.url);
  });

  it('the limit is cumulative across PATCHes', async () => {
    const session = await startUpload(srv.url, N);
    expectStatus(await patchChunk(srv.url, session.location, '012345', 0), 202);
    expectError(await patchChunk(srv.url, session.location, '67890', 6), 413, 'BLOB_UPLOAD_INVALID');
    await expectGone(session);
  });

  it('a chunked PATCH crossing the limit → 413, session deleted', async () => {
    const session = await startUpload(srv.url, N);
    expectStatus(await patchChunk(srv.url, session.location, '0123', 0), 202);
    const response = await send(srv.url, 'PATCH', session.location, { chunks: ['4567', '890', '12345'] });
    expectError(response, 413, 'BLOB_UPLOAD_INVALID');
    await expectGone(session);
  });

  it('a large chunked PATCH is cut off at the limit → 413 and the server keeps serving', async () => {
    const session = await startUpload(srv.url, N);
    const megabyte = Buffer.alloc(1 << 20, 7);
    const response = await send(srv.url, 'PATCH', session.location, { chunks: Array.from({ length: 8 }, () => megabyte) });
    expectError(response, 413, 'BLOB_UPLOAD_INVALID');
    await expectGone(session);
    await expectAlive(srv.url);
  });

  it('a final PUT chunk crossing the limit → 413, session deleted, nothing stored', async () => {
    const session = await startUpload(srv.url, N);
    expectStatus(await patchChunk(srv.url, session.location, '01234567', 0), 202);
    const blob = content('0123456789ab');
    const response = await send(srv.url, 'PUT', `${session.location}?digest=${blob.digest}`, { body: '89ab' });
    expectError(response, 413, 'BLOB_UPLOAD_INVALID');
    await expectGone(session);
    expectError(await getBlob(srv.url, N, blob.digest), 404, 'BLOB_UNKNOWN');
  });

  it('a single-request upload of 11 bytes → 413, nothing stored', async () => {
    const blob = content('01234567890');
    const response = await send(srv.url, 'POST', `/v2/${N}/blobs/uploads/?digest=${blob.digest}`, { body: blob.bytes });
    expectError(response, 413, 'BLOB_UPLOAD_INVALID');
    expectError(await headBlob(srv.url, N, blob.digest), 404, 'BLOB_UNKNOWN', { head: true });
  });

  it('exactly 10 bytes pass, in chunks or in one request', async () => {
    const chunked = content('0123456789');
    const session = await startUpload(srv.url, N);
    expectStatus(await patchChunk(srv.url, session.location, '01234', 0), 202);
    expectStatus(await patchChunk(srv.url, session.location, '56789', 5), 202);
    expectEmpty(await send(srv.url, 'PUT', `${session.location}?digest=${chunked.digest}`), 201);
    assert.equal((await getBlob(srv.url, N, chunked.digest)).body.toString(), '0123456789');

    const single = content('abcdefghij');
    const response = await send(srv.url, 'POST', `/v2/${N}/blobs/uploads/?digest=${single.digest}`, { body: single.bytes });
    expectEmpty(response, 201);
    assert.equal(header(response, 'docker-content-digest'), single.digest);
  });
});
