// S3 multipart parts (docs/storage.md, "S3 uploads") over HTTP on the real gateway, which refuses non-final parts
// under 5 MiB as S3 does: 1 MiB and 7 MiB PATCHes with Content-Length, 3 MiB chunked, then PUT. A completed object's
// part sizes cannot be read back (the gateway ignores `partNumber` on HEAD and GET), so the test looks at what the
// gateway shows: the upload's stored parts and parked remainder before the PUT, and the part count in the completed
// object's ETag (`<md5>-<parts>`, kept by the server-side copy to the blob's content address) after it.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { expectStatus } from '../support/expect.ts';
import { send } from '../support/http.ts';
import { getBlob, patchChunk, startUpload } from '../support/registry.ts';
import { RgwFixture } from '../support/rgw-fixture.ts';
import { s3StorageToml, startServer, type RunningServer } from '../support/server.ts';

const MiB = 1024 * 1024;
const PREFIX = 'scenario-11';

/** The bucket key of a blob's bytes (docs/storage.md: `v2/blobs/<alg>/<p>/<hash>/data`). */
function blobKey(digest: string): string {
  const [alg, hash] = digest.split(':') as [string, string];
  return `${PREFIX}/v2/blobs/${alg}/${hash.slice(0, 2)}/${hash}/data`;
}

describe('known-length and chunked PATCHes over HTTP on S3', () => {
  let fixture: RgwFixture;
  let server: RunningServer;
  before(async () => {
    fixture = await RgwFixture.start();
    server = await startServer({ storageToml: s3StorageToml(fixture, `${PREFIX}/`) });
  });
  after(async () => {
    await server?.stop();
    await fixture?.close();
  });

  /** The stored objects of upload session `id`, by their key below the session's folder, with their sizes. */
  async function sessionObjects(id: string): Promise<Map<string, number>> {
    const folder = `${PREFIX}/v2/repositories/app/eleven/_uploads/${id}/`;
    return new Map([...(await fixture.objects(folder))].map(([key, size]) => [key.slice(folder.length), size]));
  }

  it('1 MiB + 7 MiB known length, 3 MiB chunked, PUT: one 8 MiB streamed part, then the 3 MiB remainder', async () => {
    const pieces = [randomBytes(1 * MiB), randomBytes(7 * MiB), randomBytes(3 * MiB)];
    const all = Buffer.concat(pieces);
    const digest = `sha256:${createHash('sha256').update(all).digest('hex')}`;
    const session = await startUpload(server.url, 'app/eleven', '');
    const id = session.id.split('?')[0]!;
    expectStatus(await patchChunk(server.url, session.location, pieces[0]!, 0), 202);
    expectStatus(await patchChunk(server.url, session.location, pieces[1]!, 1 * MiB), 202);
    const chunks = Array.from({ length: 48 }, (_, i) => pieces[2]!.subarray(i * 64 * 1024, (i + 1) * 64 * 1024));
    expectStatus(await send(server.url, 'PATCH', session.location, { chunks, headers: { 'content-type': 'application/octet-stream' } }), 202);

    // Before the PUT: the 1 MiB parked and the 7 MiB went out as one 8 MiB part; the chunked 3 MiB is parked as the
    // commit record `staged/<offset>` (offset 8 MiB, body the 3 MiB remainder).
    const open = (await fixture.uploads()).filter((upload) => upload.key.startsWith(`${PREFIX}/`));
    assert.deepEqual(
      open.map((upload) => ({ key: upload.key, parts: upload.parts })),
      [{ key: `${PREFIX}/v2/repositories/app/eleven/_uploads/${id}/data`, parts: [8 * MiB] }],
    );
    const staged = [...(await sessionObjects(id))].filter(([key]) => key.startsWith('staged/'));
    assert.deepEqual(staged, [[`staged/${String(8 * MiB).padStart(16, '0')}`, 3 * MiB]]);

    const separator = session.location.includes('?') ? '&' : '?';
    expectStatus(await send(server.url, 'PUT', `${session.location}${separator}digest=${digest}`), 201);
    // Completed from those two parts (8 MiB + the 3 MiB remainder as the last): an 11 MiB object of 2 parts.
    const stored = await fixture.client.send(new HeadObjectCommand({ Bucket: fixture.bucket, Key: blobKey(digest) }));
    assert.equal(stored.ContentLength, 11 * MiB);
    assert.match(stored.ETag ?? '', /^"[0-9a-f]{32}-2"$/);
    assert.deepEqual((await fixture.uploads()).filter((upload) => upload.key.startsWith(`${PREFIX}/`)), [], 'no multipart upload left open');
    assert.deepEqual(await sessionObjects(id), new Map(), 'the session folder is gone');
    const read = await getBlob(server.url, 'app/eleven', digest, { headers: { 'x-angos-no-redirect': '1' } });
    expectStatus(read, 200);
    assert.ok(read.body.equals(all));
  });

  it('a 2 MiB upload opens no multipart upload', async () => {
    const bytes = randomBytes(2 * MiB);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const session = await startUpload(server.url, 'app/small', '');
    expectStatus(await patchChunk(server.url, session.location, bytes, 0), 202);
    assert.deepEqual(await fixture.uploads(), [], 'the 2 MiB are parked, no part uploaded');
    const separator = session.location.includes('?') ? '&' : '?';
    expectStatus(await send(server.url, 'PUT', `${session.location}${separator}digest=${digest}`), 201);
    assert.deepEqual(await fixture.uploads(), []);
    // A plain object (its ETag is the MD5 of the bytes, no `-<parts>` suffix), never completed from parts.
    const stored = await fixture.client.send(new HeadObjectCommand({ Bucket: fixture.bucket, Key: blobKey(digest) }));
    assert.equal(stored.ContentLength, 2 * MiB);
    assert.equal(stored.ETag, `"${createHash('md5').update(bytes).digest('hex')}"`);
  });
});
