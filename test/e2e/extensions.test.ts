// The extension API (docs/api.md, "Extension API") for a registry without repositories: uploads/list and
// revisions/list shapes, namespaces/list without or with an unknown repository, jobs query validation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectError, expectStatus } from '../support/expect.ts';
import { jsonBody, mediaTypeOf, request, send, type HttpResponse } from '../support/http.ts';
import { content, descriptorOf, imageIndex, imageManifest, manifestDescriptor, OCI_EMPTY } from '../support/oci.ts';
import { patchChunk, pushManifest, startUpload } from '../support/registry.ts';
import { useServer } from '../support/registry-server.ts';

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function json(response: HttpResponse): Record<string, unknown> {
  expectStatus(response, 200);
  assert.equal(mediaTypeOf(response), 'application/json');
  return jsonBody(response) as Record<string, unknown>;
}

describe('extension API', () => {
  const srv = useServer();

  it('uploads/list shows open sessions sorted by uuid with size and start time', async () => {
    const before = Date.now() - 1000;
    const one = await startUpload(srv.url, 'ext/up');
    const two = await startUpload(srv.url, 'ext/up');
    assert.equal((await patchChunk(srv.url, two.location, 'hello', 0)).status, 202);
    const body = json(await request(srv.url, '/v2/ext/up/_angos/uploads/list'));
    assert.deepEqual(Object.keys(body).sort(), ['name', 'uploads']);
    assert.equal(body.name, 'ext/up');
    const uploads = body.uploads as Array<{ uuid: string; size: number; started_at: string }>;
    const expected = [
      { uuid: one.id, size: 0 },
      { uuid: two.id, size: 5 },
    ].sort((a, b) => (a.uuid < b.uuid ? -1 : 1));
    assert.deepEqual(uploads.map(({ uuid, size }) => ({ uuid, size })), expected);
    for (const upload of uploads) {
      assert.deepEqual(Object.keys(upload).sort(), ['size', 'started_at', 'uuid']);
      assert.match(upload.started_at, RFC3339_UTC);
      const at = Date.parse(upload.started_at);
      assert.ok(at >= before && at <= Date.now() + 1000, upload.started_at);
    }
    assert.equal((await send(srv.url, 'DELETE', one.location)).status, 204);
    const after = json(await request(srv.url, '/v2/ext/up/_angos/uploads/list'));
    assert.deepEqual((after.uploads as Array<{ uuid: string }>).map((u) => u.uuid), [two.id]);
  });

  it('revisions/list of an empty namespace → {"name":…,"manifests":[]}', async () => {
    assert.deepEqual(json(await request(srv.url, '/v2/ext/empty/_angos/revisions/list')), { name: 'ext/empty', manifests: [] });
  });

  it('revisions/list shows tags, parents with platform, referrers and pushed_at', async () => {
    const child = imageManifest();
    await pushManifest(srv.url, 'ext/rev', 'child', child);
    const index = imageIndex({
      manifests: [manifestDescriptor(child, { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } })],
    });
    await pushManifest(srv.url, 'ext/rev', 'multi', index);
    const signature = imageManifest({
      artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
      config: descriptorOf(content('{}'), OCI_EMPTY),
      subject: manifestDescriptor(child),
      annotations: { k: 'v' },
    });
    await pushManifest(srv.url, 'ext/rev', signature.digest, signature);

    const body = json(await request(srv.url, '/v2/ext/rev/_angos/revisions/list'));
    assert.equal(body.name, 'ext/rev');
    const entries = body.manifests as Array<Record<string, unknown>>;
    assert.deepEqual(entries.map((e) => e.digest).sort(), [child.digest, index.digest, signature.digest].sort());

    const childEntry = entries.find((e) => e.digest === child.digest) ?? {};
    assert.deepEqual(childEntry.tags, ['child']);
    assert.deepEqual(childEntry.parents, [
      { digest: index.digest, tags: ['multi'], platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ]);
    assert.deepEqual(childEntry.referrers, [
      { digest: signature.digest, artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json', annotations: { k: 'v' } },
    ]);
    assert.match(String(childEntry.pushed_at), RFC3339_UTC);
    assert.equal('referrers_next' in childEntry, false);
    assert.equal('last_pulled_at' in childEntry, false);

    const signatureEntry = entries.find((e) => e.digest === signature.digest) ?? {};
    // Empty fields are omitted, not null.
    for (const field of ['parents', 'referrers', 'referrers_next', 'last_pulled_at']) {
      assert.equal(field in signatureEntry, false, `${field} in ${JSON.stringify(signatureEntry)}`);
    }
  });

  it('repositories/list without configured repositories → []', async () => {
    assert.deepEqual(json(await request(srv.url, '/v2/_angos/repositories/list')), { repositories: [] });
  });

  it('namespaces/list without or with an unknown repository → 404', async () => {
    expectError(await request(srv.url, '/v2/_angos/namespaces/list'), 404, 'NAME_UNKNOWN');
    expectError(await request(srv.url, '/v2/_angos/namespaces/list?repository=nope'), 404, 'NAME_UNKNOWN');
  });

  it('jobs lists are empty on an idle registry, default queue cache', async () => {
    assert.deepEqual(json(await request(srv.url, '/v2/_angos/jobs/list')), { jobs: [] });
    assert.deepEqual(json(await request(srv.url, '/v2/_angos/jobs/list?queue=replication')), { jobs: [] });
    assert.deepEqual(json(await request(srv.url, '/v2/_angos/jobs/failed')), { failed: [] });
  });

  it('jobs: ?queue=bogus GET 404 / POST 400; unknown key 404; malformed keys 400', async () => {
    const unknown = '0000018f00000000-6f1c2a4e-8b7d-4c3e-9a2b-1d0e5f6a7b8c';
    expectError(await request(srv.url, '/v2/_angos/jobs/list?queue=bogus'), 404, 'NAME_UNKNOWN');
    expectError(await request(srv.url, '/v2/_angos/jobs/list?n=abc'), 404, 'NAME_UNKNOWN');
    expectError(await request(srv.url, '/v2/_angos/jobs/list?after=nope'), 404, 'NAME_UNKNOWN');
    expectError(await send(srv.url, 'POST', `/v2/_angos/jobs/failed?key=${unknown}&queue=bogus`), 400, 'UNSUPPORTED');
    expectError(await send(srv.url, 'POST', `/v2/_angos/jobs/failed?key=${unknown}`), 404, 'NAME_UNKNOWN');
    expectError(await send(srv.url, 'DELETE', `/v2/_angos/jobs/failed?key=${unknown}`), 404, 'NAME_UNKNOWN');
    expectError(await send(srv.url, 'DELETE', `/v2/_angos/jobs/pending?key=${unknown}`), 404, 'NAME_UNKNOWN');
    expectError(await send(srv.url, 'POST', '/v2/_angos/jobs/failed?key=nope'), 400, 'UNSUPPORTED');
    expectError(await send(srv.url, 'POST', '/v2/_angos/jobs/failed'), 400, 'UNSUPPORTED');
    expectError(await send(srv.url, 'POST', '/v2/_angos/jobs/failed?key=a%2Fb'), 400, 'UNSUPPORTED');
    expectError(await send(srv.url, 'DELETE', '/v2/_angos/jobs/pending?key='), 400, 'UNSUPPORTED');
  });

  it('pulls/list needs exactly one of tag or digest', async () => {
    expectError(await request(srv.url, '/v2/ext/rev/_angos/pulls/list'), 404, 'NAME_UNKNOWN');
    expectError(await request(srv.url, `/v2/ext/rev/_angos/pulls/list?tag=child&digest=${imageManifest().digest}`), 404, 'NAME_UNKNOWN');
    const body = json(await request(srv.url, '/v2/ext/rev/_angos/pulls/list?tag=child'));
    assert.equal(body.target, 'child');
    assert.deepEqual(body.entries, []);
  });
});
