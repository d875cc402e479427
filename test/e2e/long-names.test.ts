// Names and tags at the edges of their grammars (docs/api.md, "Routing"): a valid name whose last component is
// too long for the storage layout is refused up front with 400 NAME_INVALID on every route, never a 500; the
// longest storable one works end to end; a 128-character tag on a sha512 manifest is stored and served.
// Every case runs on both storage passes: on S3 the longest keys these make (the test's prefix, a 240-character
// component, an upload's `staged/<offset>` record) stay under 400 bytes, well within the 1,024 S3 allows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectEmpty, expectError, expectStatus, header } from '../support/expect.ts';
import { jsonBody, send } from '../support/http.ts';
import { content, imageManifest, sha256, sha512 } from '../support/oci.ts';
import { getBlob, getManifest, headBlob, pushBlob, pushManifest, putManifest } from '../support/registry.ts';
import { useServer } from '../support/registry-server.ts';

const TOO_LONG = [`l/${'a'.repeat(241)}`, `l/${'b'.repeat(252)}`, 'c'.repeat(255)];
const LONGEST = `l/${'d'.repeat(240)}`;

describe('long names and tags', () => {
  const srv = useServer();

  for (const name of TOO_LONG) {
    const last = name.length - name.lastIndexOf('/') - 1;
    it(`a last component of ${last} characters is NAME_INVALID on every route`, async () => {
      const manifest = imageManifest();
      const blob = content(`long-${last}`);
      expectError(await putManifest(srv.url, name, 'v1', manifest), 400, 'NAME_INVALID');
      expectError(await getManifest(srv.url, name, 'v1'), 400, 'NAME_INVALID');
      expectError(await getManifest(srv.url, name, 'v1', 'HEAD'), 400, 'NAME_INVALID', { head: true });
      expectError(await send(srv.url, 'DELETE', `/v2/${name}/manifests/v1`), 400, 'NAME_INVALID');
      expectError(await send(srv.url, 'POST', `/v2/${name}/blobs/uploads/?digest=${blob.digest}`, { body: blob.bytes }), 400, 'NAME_INVALID');
      expectError(await getBlob(srv.url, name, blob.digest), 400, 'NAME_INVALID');
      expectError(await headBlob(srv.url, name, blob.digest), 400, 'NAME_INVALID', { head: true });
      expectError(await send(srv.url, 'DELETE', `/v2/${name}/blobs/${blob.digest}`), 400, 'NAME_INVALID');
      expectError(await send(srv.url, 'GET', `/v2/${name}/tags/list`), 400, 'NAME_INVALID');
      await pushBlob(srv.url, 'long/source', blob);
      expectError(await send(srv.url, 'POST', `/v2/${name}/blobs/uploads/?mount=${blob.digest}&from=long/source`), 400, 'NAME_INVALID');
      expectError(await send(srv.url, 'POST', `/v2/long/target/blobs/uploads/?mount=${blob.digest}&from=${name}`), 400, 'NAME_INVALID');
    });
  }

  it('the longest storable last component (240 characters) works end to end', async () => {
    const blob = content('longest-name-layer');
    await pushBlob(srv.url, LONGEST, blob);
    const manifest = imageManifest({ layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: blob.digest, size: blob.size }] });
    await pushManifest(srv.url, LONGEST, 'v1', manifest);
    const read = await getManifest(srv.url, LONGEST, 'v1');
    expectStatus(read, 200);
    assert.ok(read.body.equals(manifest.bytes));
    assert.deepEqual(jsonBody(await send(srv.url, 'GET', `/v2/${LONGEST}/tags/list`)), { name: LONGEST, tags: ['v1'] });
    const catalog = jsonBody(await send(srv.url, 'GET', '/v2/_catalog?n=1000')) as { repositories: string[] };
    assert.ok(catalog.repositories.includes(LONGEST));
    expectStatus(await send(srv.url, 'POST', `/v2/long/mounted/blobs/uploads/?mount=${blob.digest}&from=${LONGEST}`), 201);
    expectEmpty(await send(srv.url, 'DELETE', `/v2/${LONGEST}/manifests/v1`), 202);
    expectError(await getManifest(srv.url, LONGEST, 'v1'), 404, 'MANIFEST_UNKNOWN');
  });

  it('a 128-character tag on a sha512 manifest is stored, listed, served and deleted', async () => {
    const manifest = imageManifest({ annotations: { long: 'tag' } });
    const digest = sha512(manifest.bytes);
    const longTag = `t${'x'.repeat(127)}`;
    const pushed = await putManifest(srv.url, 'long/tags', `${digest}?tag=${longTag}`, manifest);
    expectStatus(pushed, 201);
    assert.equal(header(pushed, 'oci-tag'), longTag);
    const read = await getManifest(srv.url, 'long/tags', longTag);
    expectStatus(read, 200);
    assert.equal(header(read, 'docker-content-digest'), digest);
    assert.deepEqual(jsonBody(await send(srv.url, 'GET', '/v2/long/tags/tags/list')), { name: 'long/tags', tags: [longTag] });
    expectEmpty(await send(srv.url, 'DELETE', `/v2/long/tags/manifests/${longTag}`), 202);
    expectError(await getManifest(srv.url, 'long/tags', longTag), 404, 'MANIFEST_UNKNOWN');
    expectStatus(await getManifest(srv.url, 'long/tags', digest), 200);
    assert.ok(sha256(manifest.bytes) !== digest);
  });
});
