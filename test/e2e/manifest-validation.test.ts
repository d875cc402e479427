// The checks of a manifest push (docs/api.md, "Pushing a manifest"): Content-Type, size, JSON shape, by-digest
// hash, plus garbage bodies that must be refused without harming the process.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectAlive, expectEmpty, expectError, expectStatus, header } from '../support/expect.ts';
import { rawRequest, send } from '../support/http.ts';
import {
  content,
  descriptorOf,
  imageManifest,
  manifestOf,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER,
  OCI_MANIFEST,
  sha512,
  uniqueBlob,
  type Descriptor,
  type Manifest,
} from '../support/oci.ts';
import { getManifest, putManifest } from '../support/registry.ts';
import { useServer } from '../support/registry-server.ts';

const N = 'test/app';

/** A valid OCI image manifest of exactly `size` bytes, padded through an annotation. */
function manifestOfSize(size: number): Manifest {
  const base = imageManifest({ annotations: { pad: '' } });
  const padded = imageManifest({ config: base.json.config as Descriptor, annotations: { pad: 'x'.repeat(size - base.size) } });
  assert.equal(padded.size, size);
  return padded;
}

describe('manifest validation', () => {
  const srv = useServer();

  describe('Content-Type and mediaType', () => {
    it('a body mediaType that differs from Content-Type → 400 MANIFEST_INVALID', async () => {
      const manifest = imageManifest();
      expectError(await putManifest(srv.url, N, 'mismatch', manifest, { contentType: OCI_INDEX }), 400, 'MANIFEST_INVALID');
      expectError(await getManifest(srv.url, N, 'mismatch'), 404, 'MANIFEST_UNKNOWN');
    });

    it('media types compare case-sensitively', async () => {
      const manifest = imageManifest();
      const upper = OCI_MANIFEST.replace('oci', 'OCI');
      expectError(await putManifest(srv.url, N, 'case', manifest, { contentType: upper }), 400, 'MANIFEST_INVALID');
    });

    it('no Content-Type → 400 UNSUPPORTED', async () => {
      expectError(await putManifest(srv.url, N, 'notype', imageManifest(), { contentType: null }), 400, 'UNSUPPORTED');
      expectError(await getManifest(srv.url, N, 'notype'), 404, 'MANIFEST_UNKNOWN');
    });

    for (const contentType of ['json', 'application/', '/json', 'a/b/c', 'application/json space', `application/${'x'.repeat(128)}`, 'ápplication/json']) {
      it(`an invalid Content-Type ${JSON.stringify(contentType.slice(0, 30))} → 400 UNSUPPORTED`, async () => {
        const manifest = imageManifest({ mediaType: null });
        expectError(await putManifest(srv.url, N, 'badtype', manifest, { contentType }), 400, 'UNSUPPORTED');
      });
    }

    it('a Content-Type carrying invalid UTF-8 bytes → 400 and the server keeps serving', async () => {
      const body = imageManifest({ mediaType: null }).bytes;
      const head = `PUT /v2/${N}/manifests/latin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/vnd.\xff\xfe+json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
      const response = await rawRequest(srv.url, Buffer.concat([Buffer.from(head, 'latin1'), body]));
      expectError(response, 400, 'UNSUPPORTED');
      await expectAlive(srv.url);
    });
  });

  describe('JSON shape', () => {
    const config = descriptorOf(uniqueBlob(), OCI_CONFIG);
    const child = descriptorOf(imageManifest(), OCI_MANIFEST);
    const cases: Array<[string, Buffer | string, string]> = [
      ['schemaVersion 1', JSON.stringify({ schemaVersion: 1, mediaType: OCI_MANIFEST, config, layers: [] }), OCI_MANIFEST],
      ['schemaVersion missing', JSON.stringify({ mediaType: OCI_MANIFEST, config, layers: [] }), OCI_MANIFEST],
      ['schemaVersion "2"', JSON.stringify({ schemaVersion: '2', mediaType: OCI_MANIFEST, config, layers: [] }), OCI_MANIFEST],
      ['layers and manifests', JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, layers: [descriptorOf(uniqueBlob(), OCI_LAYER)], manifests: [child] }), OCI_INDEX],
      ['config and manifests', JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, config, manifests: [child] }), OCI_INDEX],
      ['not JSON', '{not json', OCI_MANIFEST],
      ['truncated JSON', JSON.stringify({ schemaVersion: 2, config, layers: [] }).slice(0, -3), OCI_MANIFEST],
      ['a JSON array', '[]', OCI_MANIFEST],
      ['JSON null', 'null', OCI_MANIFEST],
      ['a JSON string', '"manifest"', OCI_MANIFEST],
      ['a JSON number', '2', OCI_MANIFEST],
      ['an empty body', '', OCI_MANIFEST],
      ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), OCI_MANIFEST],
      ['a layer without digest', JSON.stringify({ schemaVersion: 2, config, layers: [{ mediaType: OCI_LAYER, size: 1 }] }), OCI_MANIFEST],
      ['a layer with a bad digest', JSON.stringify({ schemaVersion: 2, config, layers: [{ mediaType: OCI_LAYER, size: 1, digest: 'sha256:zz' }] }), OCI_MANIFEST],
      ['a layer with an upper-case digest', JSON.stringify({ schemaVersion: 2, config, layers: [{ ...descriptorOf(uniqueBlob(), OCI_LAYER), digest: `sha256:${'A'.repeat(64)}` }] }), OCI_MANIFEST],
      ['a layer without size', JSON.stringify({ schemaVersion: 2, config, layers: [{ mediaType: OCI_LAYER, digest: uniqueBlob().digest }] }), OCI_MANIFEST],
      ['a negative size', JSON.stringify({ schemaVersion: 2, config, layers: [{ ...descriptorOf(uniqueBlob(), OCI_LAYER), size: -1 }] }), OCI_MANIFEST],
      ['a string size', JSON.stringify({ schemaVersion: 2, config, layers: [{ ...descriptorOf(uniqueBlob(), OCI_LAYER), size: '1' }] }), OCI_MANIFEST],
      ['a layer without mediaType', JSON.stringify({ schemaVersion: 2, config, layers: [{ digest: uniqueBlob().digest, size: 1 }] }), OCI_MANIFEST],
      ['a layer with an invalid mediaType', JSON.stringify({ schemaVersion: 2, config, layers: [{ ...descriptorOf(uniqueBlob(), OCI_LAYER), mediaType: 'not a type' }] }), OCI_MANIFEST],
      ['a config that is not a descriptor', JSON.stringify({ schemaVersion: 2, config: 'sha256', layers: [] }), OCI_MANIFEST],
      ['layers that is not an array', JSON.stringify({ schemaVersion: 2, config, layers: {} }), OCI_MANIFEST],
      ['an index child that is not an object', JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [42] }), OCI_INDEX],
      ['a subject with a bad digest', JSON.stringify({ schemaVersion: 2, config, layers: [], subject: { mediaType: OCI_MANIFEST, size: 1, digest: 'sha256:zz' } }), OCI_MANIFEST],
    ];
    for (const [label, body, contentType] of cases) {
      it(`${label} → 400 MANIFEST_INVALID, nothing stored`, async () => {
        const response = await putManifest(srv.url, N, 'invalid', imageManifest(), { contentType, body });
        expectError(response, 400, 'MANIFEST_INVALID');
        expectError(await getManifest(srv.url, N, 'invalid'), 404, 'MANIFEST_UNKNOWN');
        await expectAlive(srv.url);
      });
    }
  });

  describe('by-digest pushes', () => {
    it('a body that does not hash to the digest → 400 MANIFEST_INVALID', async () => {
      const manifest = imageManifest();
      const other = imageManifest();
      expectError(await putManifest(srv.url, N, other.digest, manifest), 400, 'MANIFEST_INVALID');
      expectError(await getManifest(srv.url, N, other.digest), 404, 'MANIFEST_UNKNOWN');
      expectError(await getManifest(srv.url, N, manifest.digest), 404, 'MANIFEST_UNKNOWN');
    });

    it('a sha512 by-digest push → 201 and retrievable by that digest', async () => {
      const manifest = imageManifest();
      const digest = sha512(manifest.bytes);
      const response = await putManifest(srv.url, N, digest, manifest, { query: '?tag=by512' });
      expectEmpty(response, 201);
      assert.equal(header(response, 'location'), `/v2/${N}/manifests/${digest}`);
      assert.equal(header(response, 'docker-content-digest'), digest);
      for (const reference of [digest, 'by512']) {
        const read = await getManifest(srv.url, N, reference);
        expectStatus(read, 200);
        assert.deepEqual(read.body, manifest.bytes);
        assert.equal(header(read, 'docker-content-digest'), digest);
        assert.equal(header(read, 'content-type'), OCI_MANIFEST);
      }
    });

    it('a sha512 by-digest push whose body does not match → 400 MANIFEST_INVALID', async () => {
      const manifest = imageManifest();
      expectError(await putManifest(srv.url, N, sha512(imageManifest().bytes), manifest), 400, 'MANIFEST_INVALID');
    });
  });

  describe('default max_manifest_size (5 MiB)', () => {
    it('5 MiB + 1 byte → 413 MANIFEST_INVALID', async () => {
      const manifest = manifestOfSize(5 * 1024 * 1024 + 1);
      expectError(await putManifest(srv.url, N, 'huge', manifest), 413, 'MANIFEST_INVALID');
      expectError(await getManifest(srv.url, N, 'huge'), 404, 'MANIFEST_UNKNOWN');
      await expectAlive(srv.url);
    });

    it('exactly 5 MiB → 201', async () => {
      const manifest = manifestOfSize(5 * 1024 * 1024);
      expectEmpty(await putManifest(srv.url, N, 'fivemib', manifest), 201);
      const read = await getManifest(srv.url, N, 'fivemib');
      expectStatus(read, 200);
      assert.equal(read.body.length, manifest.size);
    });
  });
});

describe('max_manifest_size = 1024', () => {
  const srv = useServer({ global: { max_manifest_size: 1024 } });

  it('1025 bytes → 413 MANIFEST_INVALID, nothing stored', async () => {
    expectError(await putManifest(srv.url, N, 'over', manifestOfSize(1025)), 413, 'MANIFEST_INVALID');
    expectError(await getManifest(srv.url, N, 'over'), 404, 'MANIFEST_UNKNOWN');
  });

  it('exactly 1024 bytes passes → 201', async () => {
    const manifest = manifestOfSize(1024);
    expectEmpty(await putManifest(srv.url, N, 'at', manifest), 201);
    assert.deepEqual((await getManifest(srv.url, N, 'at')).body, manifest.bytes);
  });

  it('the size check comes before JSON validation: 2000 bytes of garbage → 413', async () => {
    const garbage = content('x'.repeat(2000));
    const response = await putManifest(srv.url, N, 'garbage', manifestOf({}, OCI_MANIFEST), { body: garbage.bytes });
    expectError(response, 413, 'MANIFEST_INVALID');
  });

  it('an oversized chunked body → 413 and the server keeps serving', async () => {
    for (const chunks of [['x'.repeat(2048)], ['x'.repeat(1000), 'x'.repeat(1000), 'x'.repeat(48)]]) {
      const response = await send(srv.url, 'PUT', `/v2/${N}/manifests/chunked`, { headers: { 'content-type': OCI_MANIFEST }, chunks });
      expectError(response, 413, 'MANIFEST_INVALID');
      await expectAlive(srv.url);
    }
  });

  it('a chunked body within the limit is accepted', async () => {
    const manifest = manifestOfSize(1000);
    const half = manifest.size / 2;
    const response = await send(srv.url, 'PUT', `/v2/${N}/manifests/chunked-ok`, {
      headers: { 'content-type': OCI_MANIFEST },
      chunks: [manifest.bytes.subarray(0, half), manifest.bytes.subarray(half)],
    });
    expectEmpty(response, 201);
    assert.deepEqual((await getManifest(srv.url, N, 'chunked-ok')).body, manifest.bytes);
  });
});
