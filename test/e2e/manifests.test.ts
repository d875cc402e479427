// Manifest GET, HEAD, PUT and DELETE, `?tag=` and the tag grammar (docs/api.md, "Manifests").
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorMessage, expectEmpty, expectError, expectStatus, header } from '../support/expect.ts';
import { request, send, type HttpResponse } from '../support/http.ts';
import {
  DOCKER_CONFIG,
  DOCKER_LIST,
  DOCKER_MANIFEST,
  descriptorOf,
  imageIndex,
  imageManifest,
  manifestDescriptor,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_MANIFEST,
  sha256,
  uniqueBlob,
  type Manifest,
} from '../support/oci.ts';
import { deleteManifest, getManifest, pushManifest, putManifest } from '../support/registry.ts';
import { useServer } from '../support/registry-server.ts';

const N = 'test/app';

function expectPushed(response: HttpResponse, name: string, reference: string, digest: string): void {
  expectEmpty(response, 201);
  assert.equal(header(response, 'location'), `/v2/${name}/manifests/${reference}`);
  assert.equal(header(response, 'docker-content-digest'), digest);
}

function expectServed(response: HttpResponse, manifest: Manifest, mediaType = manifest.mediaType): void {
  expectStatus(response, 200);
  assert.deepEqual(response.body, manifest.bytes);
  assert.equal(header(response, 'content-type'), mediaType);
  assert.equal(header(response, 'docker-content-digest'), manifest.digest);
  assert.equal(header(response, 'content-length'), String(manifest.size));
}

describe('manifests', () => {
  const srv = useServer();

  async function expectHead(name: string, reference: string, manifest: Manifest): Promise<void> {
    const head = await getManifest(srv.url, name, reference, 'HEAD');
    expectStatus(head, 200);
    assert.equal(head.body.length, 0);
    assert.equal(header(head, 'content-length'), String(manifest.size));
    assert.equal(header(head, 'docker-content-digest'), manifest.digest);
    assert.equal(header(head, 'content-type'), manifest.mediaType);
  }

  describe('push and pull', () => {
    it('a tag push → 201 with Location and the sha256 of the body; GET/HEAD by tag and digest', async () => {
      const manifest = imageManifest();
      expectPushed(await putManifest(srv.url, N, 'latest', manifest), N, 'latest', sha256(manifest.bytes));
      expectServed(await getManifest(srv.url, N, 'latest'), manifest);
      expectServed(await getManifest(srv.url, N, manifest.digest), manifest);
      await expectHead(N, 'latest', manifest);
      await expectHead(N, manifest.digest, manifest);
    });

    it('Content-Type parameters are accepted and stripped: served without them', async () => {
      const manifest = imageManifest();
      const response = await putManifest(srv.url, N, 'charset', manifest, { contentType: `${OCI_MANIFEST}; charset=utf-8` });
      expectPushed(response, N, 'charset', manifest.digest);
      expectServed(await getManifest(srv.url, N, 'charset'), manifest);
    });

    it('bytes are stored exactly, whitespace and key order included', async () => {
      const json = { layers: [], schemaVersion: 2, config: descriptorOf(uniqueBlob(), OCI_CONFIG), mediaType: OCI_MANIFEST };
      const bytes = Buffer.from(`${JSON.stringify(json, null, 3)}\n\n`);
      const manifest: Manifest = { bytes, digest: sha256(bytes), size: bytes.length, mediaType: OCI_MANIFEST, json };
      expectPushed(await putManifest(srv.url, N, 'pretty', manifest), N, 'pretty', manifest.digest);
      expectServed(await getManifest(srv.url, N, 'pretty'), manifest);
    });

    it('stored manifests are served byte-for-byte whatever the Accept', async () => {
      const manifest = imageManifest();
      await pushManifest(srv.url, N, 'accept', manifest);
      for (const accept of [DOCKER_MANIFEST, 'text/html', 'application/vnd.oci.image.index.v1+json;q=0.5, */*;q=0.1']) {
        expectServed(await request(srv.url, `/v2/${N}/manifests/accept`, { headers: { accept } }), manifest);
      }
    });

    it('round-trips Docker manifests, Docker lists, OCI indexes and a body without mediaType', async () => {
      const docker = imageManifest({ mediaType: DOCKER_MANIFEST, config: descriptorOf(uniqueBlob(), DOCKER_CONFIG) });
      const list = imageIndex({ mediaType: DOCKER_LIST, manifests: [manifestDescriptor(docker, { platform: { os: 'linux', architecture: 'amd64' } })] });
      const index = imageIndex({ manifests: [manifestDescriptor(docker)] });
      const bare = imageManifest({ mediaType: null });
      for (const [tag, manifest] of [['docker', docker], ['list', list], ['index', index], ['bare', bare]] as const) {
        expectPushed(await putManifest(srv.url, N, tag, manifest), N, tag, manifest.digest);
        expectServed(await getManifest(srv.url, N, tag), manifest);
      }
      assert.equal(bare.mediaType, OCI_MANIFEST);
      assert.equal(index.mediaType, OCI_INDEX);
    });

    it('a by-digest push without tags → 201 at the digest, readable by digest only', async () => {
      const manifest = imageManifest();
      const response = await putManifest(srv.url, N, manifest.digest, manifest);
      expectPushed(response, N, manifest.digest, manifest.digest);
      assert.equal(header(response, 'oci-tag'), undefined);
      expectServed(await getManifest(srv.url, N, manifest.digest), manifest);
    });

    it('tags are mutable by default: a re-push moves the tag, the old revision stays', async () => {
      const first = imageManifest();
      const second = imageManifest();
      await pushManifest(srv.url, N, 'moving', first);
      await pushManifest(srv.url, N, 'moving', second);
      expectServed(await getManifest(srv.url, N, 'moving'), second);
      expectServed(await getManifest(srv.url, N, first.digest), first);
    });

    it('an absent reference → 404 MANIFEST_UNKNOWN (HEAD without body)', async () => {
      expectError(await getManifest(srv.url, N, 'absent'), 404, 'MANIFEST_UNKNOWN');
      expectError(await getManifest(srv.url, N, sha256('absent')), 404, 'MANIFEST_UNKNOWN');
      expectError(await getManifest(srv.url, N, 'absent', 'HEAD'), 404, 'MANIFEST_UNKNOWN', { head: true });
      expectError(await getManifest(srv.url, 'never/pushed', 'latest'), 404, 'MANIFEST_UNKNOWN');
    });

    it('an undeclared ns parameter is ignored, without OCI-Namespace', async () => {
      const manifest = imageManifest();
      await pushManifest(srv.url, N, 'ns-ignored', manifest);
      const read = await request(srv.url, `/v2/${N}/manifests/ns-ignored?ns=docker.io`);
      expectServed(read, manifest);
      assert.equal(header(read, 'oci-namespace'), undefined);
      const pushed = await putManifest(srv.url, N, 'ns-push', imageManifest(), { query: '?ns=docker.io' });
      expectEmpty(pushed, 201);
      assert.equal(header(pushed, 'oci-namespace'), undefined);
    });

    it('manifests are per namespace', async () => {
      const manifest = imageManifest();
      await pushManifest(srv.url, 'ns/one', 'v1', manifest);
      expectError(await getManifest(srv.url, 'ns/two', manifest.digest), 404, 'MANIFEST_UNKNOWN');
      expectError(await getManifest(srv.url, 'ns/two', 'v1'), 404, 'MANIFEST_UNKNOWN');
    });
  });

  describe('references and tag grammar', () => {
    const longest = `_${'a'.repeat(127)}`;
    for (const tag of ['v1', 'V1.0_rc-1', '_x', '0', longest]) {
      it(`valid tag ${tag.length > 20 ? `${tag.slice(0, 8)}… (${tag.length})` : tag} → 201`, async () => {
        const manifest = imageManifest();
        expectPushed(await putManifest(srv.url, N, tag, manifest), N, tag, manifest.digest);
        expectServed(await getManifest(srv.url, N, tag), manifest);
      });
    }

    for (const reference of [`a${'b'.repeat(128)}`, '.v1', '-v1', 'v1!', 'v%31', '%FF', 'sha256:zz', `sha256:${'A'.repeat(64)}`, 'md5:abc']) {
      it(`invalid reference ${reference.length > 20 ? `${reference.slice(0, 8)}… (${reference.length})` : reference} → GET 404 NAME_UNKNOWN, PUT/DELETE 400`, async () => {
        expectError(await getManifest(srv.url, N, reference), 404, 'NAME_UNKNOWN');
        expectError(await getManifest(srv.url, N, reference, 'HEAD'), 404, 'NAME_UNKNOWN', { head: true });
        expectError(await putManifest(srv.url, N, reference, imageManifest()), 400, 'UNSUPPORTED');
        expectError(await deleteManifest(srv.url, N, reference), 400, 'UNSUPPORTED');
      });
    }
  });

  describe('?tag= on by-digest pushes', () => {
    it('?tag=b&tag=a&tag=a → 201, OCI-Tag: a, b, both tags resolve', async () => {
      const manifest = imageManifest();
      const response = await putManifest(srv.url, 'tags/q', manifest.digest, manifest, { query: '?tag=b&tag=a&tag=a' });
      expectPushed(response, 'tags/q', manifest.digest, manifest.digest);
      assert.equal(header(response, 'oci-tag'), 'a, b');
      expectServed(await getManifest(srv.url, 'tags/q', 'a'), manifest);
      expectServed(await getManifest(srv.url, 'tags/q', 'b'), manifest);
    });

    it('tag values are form-decoded', async () => {
      const manifest = imageManifest();
      const response = await putManifest(srv.url, 'tags/q', manifest.digest, manifest, { query: '?tag=x%2Dy' });
      expectStatus(response, 201);
      assert.equal(header(response, 'oci-tag'), 'x-y');
      expectServed(await getManifest(srv.url, 'tags/q', 'x-y'), manifest);
    });

    for (const query of ['?tag=bad!', '?tag=', '?tag=ok&tag=.bad', `?tag=${'a'.repeat(129)}`, '?tag=%FF', '?tag=%C3%A9', '?tag=v1+x', '?tag=v1%20x']) {
      it(`${query.length > 30 ? `${query.slice(0, 12)}…` : query} → 400 UNSUPPORTED, nothing stored`, async () => {
        const manifest = imageManifest();
        expectError(await putManifest(srv.url, 'tags/bad', manifest.digest, manifest, { query }), 400, 'UNSUPPORTED');
        expectError(await getManifest(srv.url, 'tags/bad', manifest.digest), 404, 'MANIFEST_UNKNOWN');
        expectError(await getManifest(srv.url, 'tags/bad', 'ok'), 404, 'MANIFEST_UNKNOWN');
      });
    }

    it('up to 100 ?tag= values are taken; 101 are refused with 400 UNSUPPORTED naming the limit, nothing stored', async () => {
      const manifest = imageManifest();
      const query = (count: number) => `?${Array.from({ length: count }, (_, i) => `tag=t${i}`).join('&')}`;
      const refused = await putManifest(srv.url, 'tags/cap', manifest.digest, manifest, { query: query(101) });
      expectError(refused, 400, 'UNSUPPORTED');
      assert.equal(errorMessage(refused), 'a manifest push may carry at most 100 tag parameters');
      expectError(await getManifest(srv.url, 'tags/cap', manifest.digest), 404, 'MANIFEST_UNKNOWN');
      const taken = await putManifest(srv.url, 'tags/cap', manifest.digest, manifest, { query: query(100) });
      expectStatus(taken, 201);
      expectServed(await getManifest(srv.url, 'tags/cap', 't99'), manifest);
    });

    it('?tag= on a by-tag push is ignored', async () => {
      const manifest = imageManifest();
      const response = await putManifest(srv.url, 'tags/bytag', 'main', manifest, { query: '?tag=extra' });
      expectPushed(response, 'tags/bytag', 'main', manifest.digest);
      assert.equal(header(response, 'oci-tag'), undefined);
      expectError(await getManifest(srv.url, 'tags/bytag', 'extra'), 404, 'MANIFEST_UNKNOWN');
    });
  });

  describe('DELETE', () => {
    it('a tag delete → 202, tag 404, digest still 200', async () => {
      const manifest = imageManifest();
      await pushManifest(srv.url, 'del/m', 'gone', manifest);
      expectEmpty(await deleteManifest(srv.url, 'del/m', 'gone'), 202);
      expectError(await getManifest(srv.url, 'del/m', 'gone'), 404, 'MANIFEST_UNKNOWN');
      expectServed(await getManifest(srv.url, 'del/m', manifest.digest), manifest);
    });

    it('a digest delete → 202, the digest and every tag on it 404 at once', async () => {
      const manifest = imageManifest();
      await pushManifest(srv.url, 'del/m', manifest.digest, manifest, { query: '?tag=t1&tag=t2' });
      await pushManifest(srv.url, 'del/m', 't3', manifest);
      expectEmpty(await deleteManifest(srv.url, 'del/m', manifest.digest), 202);
      for (const reference of [manifest.digest, 't1', 't2', 't3']) {
        expectError(await getManifest(srv.url, 'del/m', reference), 404, 'MANIFEST_UNKNOWN');
        expectError(await getManifest(srv.url, 'del/m', reference, 'HEAD'), 404, 'MANIFEST_UNKNOWN', { head: true });
      }
    });

    it('deleting an absent tag or digest → 202', async () => {
      expectEmpty(await deleteManifest(srv.url, 'del/m', 'never'), 202);
      expectEmpty(await deleteManifest(srv.url, 'del/m', sha256('never')), 202);
      expectEmpty(await deleteManifest(srv.url, 'del/none', 'never'), 202);
    });

    it('a deleted manifest can be pushed again', async () => {
      const manifest = imageManifest();
      await pushManifest(srv.url, 'del/m', 'again', manifest);
      expectEmpty(await deleteManifest(srv.url, 'del/m', manifest.digest), 202);
      await pushManifest(srv.url, 'del/m', 'again', manifest);
      expectServed(await getManifest(srv.url, 'del/m', 'again'), manifest);
      expectServed(await getManifest(srv.url, 'del/m', manifest.digest), manifest);
    });

    it('a tag delete in one namespace leaves the same tag elsewhere', async () => {
      const manifest = imageManifest();
      await pushManifest(srv.url, 'del/x', 'shared', manifest);
      await pushManifest(srv.url, 'del/y', 'shared', manifest);
      expectEmpty(await send(srv.url, 'DELETE', '/v2/del/x/manifests/shared'), 202);
      expectServed(await getManifest(srv.url, 'del/y', 'shared'), manifest);
    });
  });
});
