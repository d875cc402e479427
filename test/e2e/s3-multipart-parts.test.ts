// S3 multipart parts (docs/storage.md, "S3 uploads") over HTTP: 1 MiB and 7 MiB PATCHes with Content-Length,
// 3 MiB chunked, then PUT; the parts S3 completed are read from the s3rver fixture, which refuses non-final parts
// under 5 MiB as S3 does.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { S3rverFixture } from '../../src/storage/s3/s3rver-fixture.ts';
import { expectStatus } from '../support/expect.ts';
import { send } from '../support/http.ts';
import { getBlob, patchChunk, startUpload } from '../support/registry.ts';
import { s3StorageToml, startServer, type RunningServer } from '../support/server.ts';

const MiB = 1024 * 1024;

describe('known-length and chunked PATCHes over HTTP on S3', () => {
  let fixture: S3rverFixture;
  let server: RunningServer;
  before(async () => {
    fixture = await S3rverFixture.start();
    server = await startServer({ storageToml: s3StorageToml(fixture, 'scenario-11/') });
  });
  after(async () => {
    await server?.stop();
    await fixture?.close();
  });

  it('1 MiB + 7 MiB known length, 3 MiB chunked, PUT: one 8 MiB streamed part, then the 3 MiB remainder', async () => {
    const pieces = [randomBytes(1 * MiB), randomBytes(7 * MiB), randomBytes(3 * MiB)];
    const all = Buffer.concat(pieces);
    const digest = `sha256:${createHash('sha256').update(all).digest('hex')}`;
    const session = await startUpload(server.url, 'app/eleven', '');
    expectStatus(await patchChunk(server.url, session.location, pieces[0]!, 0), 202);
    expectStatus(await patchChunk(server.url, session.location, pieces[1]!, 1 * MiB), 202);
    const chunks = Array.from({ length: 48 }, (_, i) => pieces[2]!.subarray(i * 64 * 1024, (i + 1) * 64 * 1024));
    expectStatus(await send(server.url, 'PATCH', session.location, { chunks, headers: { 'content-type': 'application/octet-stream' } }), 202);
    const separator = session.location.includes('?') ? '&' : '?';
    expectStatus(await send(server.url, 'PUT', `${session.location}${separator}digest=${digest}`), 201);
    const data = fixture.completed.filter((entry) => entry.key.startsWith('scenario-11/') && entry.key.endsWith('/data'));
    assert.deepEqual(data.map((entry) => entry.parts), [[8 * MiB, 3 * MiB]]);
    const read = await getBlob(server.url, 'app/eleven', digest, { headers: { 'x-angos-no-redirect': '1' } });
    expectStatus(read, 200);
    assert.ok(read.body.equals(all));
  });

  it('a 2 MiB upload opens no multipart upload', async () => {
    const bytes = randomBytes(2 * MiB);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const before = fixture.completed.length;
    const session = await startUpload(server.url, 'app/small', '');
    expectStatus(await patchChunk(server.url, session.location, bytes, 0), 202);
    const separator = session.location.includes('?') ? '&' : '?';
    expectStatus(await send(server.url, 'PUT', `${session.location}${separator}digest=${digest}`), 201);
    assert.equal(fixture.completed.length, before);
    assert.deepEqual(await fixture.uploads(), []);
  });
});
