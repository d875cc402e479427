// Storage down: `/readyz` answers 503 (docs/api.md, "Operational endpoints"), 5xx bodies carry `message: null` and
// storage faults are never masked as 404 (docs/api.md, "Errors"). The fault is real: the storage root is replaced
// by a symlink to itself, so every path under it fails with ELOOP.
import assert from 'node:assert/strict';
import { rm, symlink } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import { expectError, expectStatus } from '../support/expect.ts';
import { jsonBody, mediaTypeOf, request, send } from '../support/http.ts';
import { imageManifest, uniqueBlob } from '../support/oci.ts';
import { getBlob, getManifest, headBlob, pushBlob, pushManifest } from '../support/registry.ts';
import { useServer } from '../support/registry-server.ts';

const N = 'test/app';

// The fault is a filesystem one; the S3 pass of the suite (ANGOS_TEST_STORAGE=s3) has no root to break.
const onS3 = process.env.ANGOS_TEST_STORAGE === 's3';

describe('storage fault', { skip: onS3 ? 'filesystem fault injection; S3 faults are tested with the S3 backend' : false }, () => {
  const srv = useServer();
  before(async () => {
    // Content first, so the fault hits a store the server has already used.
    await pushBlob(srv.url, N, uniqueBlob());
    await pushManifest(srv.url, N, 'v1', imageManifest());
    await rm(srv.rootDir, { recursive: true, force: true });
    await symlink(srv.rootDir, srv.rootDir);
  });

  it('GET /readyz → 503 not_ready with the storage error', async () => {
    const response = await request(srv.url, '/readyz');
    expectStatus(response, 503);
    assert.equal(mediaTypeOf(response), 'application/json');
    const body = jsonBody(response) as { status?: unknown; error?: unknown };
    assert.deepEqual(Object.keys(body).sort(), ['error', 'status']);
    assert.equal(body.status, 'not_ready');
    assert.match(String(body.error), /^storage backend not ready: /);
  });

  it('GET /healthz and /v2/ keep answering 200 while serving', async () => {
    expectStatus(await request(srv.url, '/healthz'), 200);
    expectStatus(await request(srv.url, '/v2/'), 200);
  });

  it('reads that hit the fault → 500 INTERNAL_ERROR with message null, never 404', async () => {
    expectError(await getBlob(srv.url, N, uniqueBlob().digest), 500, 'INTERNAL_ERROR');
    expectError(await headBlob(srv.url, N, uniqueBlob().digest), 500, 'INTERNAL_ERROR', { head: true });
    expectError(await getManifest(srv.url, N, 'never-cached'), 500, 'INTERNAL_ERROR');
    expectError(await request(srv.url, `/v2/${N}/tags/list`), 500, 'INTERNAL_ERROR');
  });

  it('writes that hit the fault → 500 INTERNAL_ERROR with message null', async () => {
    expectError(await send(srv.url, 'POST', `/v2/${N}/blobs/uploads/`), 500, 'INTERNAL_ERROR');
    const fresh = uniqueBlob();
    const single = await send(srv.url, 'POST', `/v2/${N}/blobs/uploads/?digest=${fresh.digest}`, { body: fresh.bytes });
    expectError(single, 500, 'INTERNAL_ERROR');
  });
});
