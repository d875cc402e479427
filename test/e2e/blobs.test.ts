// Blob HEAD, GET, ranges and DELETE (docs/api.md, "Blobs") and who may read them (docs/storage.md, "Who may read a
// blob").
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { errorMessage, expectBody, expectEmpty, expectError, expectStatus, header } from '../support/expect.ts';
import { send, type HttpResponse } from '../support/http.ts';
import { content, descriptorOf, imageManifest, OCI_CONFIG, OCI_LAYER, uniqueBlob, type Content } from '../support/oci.ts';
import { deleteManifest, getBlob, headBlob, pushBlob, pushManifest } from '../support/registry.ts';
import { useServer } from '../support/registry-server.ts';

const N = 'test/app';

function expectBlobHeaders(response: HttpResponse, blob: Content, length: number): void {
  assert.equal(header(response, 'docker-content-digest'), blob.digest);
  assert.equal(header(response, 'content-length'), String(length));
  assert.equal(header(response, 'accept-ranges'), 'bytes');
}

describe('blobs', () => {
  const srv = useServer();

  describe('HEAD and GET', () => {
    it('HEAD → 200 with digest, length and Accept-Ranges, no body', async () => {
      const blob = uniqueBlob();
      await pushBlob(srv.url, N, blob);
      const response = await headBlob(srv.url, N, blob.digest);
      expectStatus(response, 200);
      expectBlobHeaders(response, blob, blob.size);
      assert.equal(response.body.length, 0);
    });

    it('GET → 200 with the exact bytes', async () => {
      const blob = content(Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256)));
      await pushBlob(srv.url, N, blob);
      const response = await getBlob(srv.url, N, blob.digest);
      expectStatus(response, 200);
      expectBlobHeaders(response, blob, blob.size);
      assert.deepEqual(response.body, blob.bytes);
    });

    it('unknown digest → 404 BLOB_UNKNOWN (HEAD without body)', async () => {
      const { digest } = uniqueBlob();
      expectError(await getBlob(srv.url, N, digest), 404, 'BLOB_UNKNOWN');
      expectError(await headBlob(srv.url, N, digest), 404, 'BLOB_UNKNOWN', { head: true });
    });

    it('malformed digests are unmatched routes → 404 NAME_UNKNOWN', async () => {
      const hex = 'a'.repeat(64);
      for (const digest of [
        `sha256:${hex.toUpperCase()}`,
        `sha256:${hex.slice(1)}`,
        `sha256:${hex}0`,
        `md5:${'a'.repeat(32)}`,
        `sha512:${hex}`,
        `sha256:${'g'.repeat(64)}`,
        'sha256:',
        hex,
        `SHA256:${hex}`,
        `sha256:${hex}%00`,
      ]) {
        expectError(await getBlob(srv.url, N, digest), 404, 'NAME_UNKNOWN');
        expectError(await headBlob(srv.url, N, digest), 404, 'NAME_UNKNOWN', { head: true });
        expectError(await send(srv.url, 'DELETE', `/v2/${N}/blobs/${digest}`), 400, 'UNSUPPORTED');
      }
    });

    it('a blob uploaded to a/x is BLOB_UNKNOWN in b/y', async () => {
      const blob = uniqueBlob();
      await pushBlob(srv.url, 'a/x', blob);
      expectStatus(await headBlob(srv.url, 'a/x', blob.digest), 200);
      expectError(await getBlob(srv.url, 'b/y', blob.digest), 404, 'BLOB_UNKNOWN');
      expectError(await headBlob(srv.url, 'b/y', blob.digest), 404, 'BLOB_UNKNOWN', { head: true });
    });

    it('a permissive manifest push referencing an unreadable blob leaves it unreadable', async () => {
      const layer = uniqueBlob('layer');
      const config = uniqueBlob('config');
      await pushBlob(srv.url, 'a/x', layer);
      await pushBlob(srv.url, 'a/x', config);
      const manifest = imageManifest({
        config: descriptorOf(config, OCI_CONFIG),
        layers: [descriptorOf(layer, OCI_LAYER)],
      });
      await pushManifest(srv.url, 'b/y', 'v1', manifest);
      expectError(await getBlob(srv.url, 'b/y', layer.digest), 404, 'BLOB_UNKNOWN');
      expectError(await getBlob(srv.url, 'b/y', config.digest), 404, 'BLOB_UNKNOWN');
      // Pushing the bytes into b/y afterwards makes them readable there.
      await pushBlob(srv.url, 'b/y', layer);
      expectStatus(await getBlob(srv.url, 'b/y', layer.digest), 200);
    });
  });

  describe('manifests are blobs of their namespace (the `rev` reference key)', () => {
    it('a revision of N reads as a blob in N only, until the revision is deleted', async () => {
      const manifest = imageManifest();
      await pushManifest(srv.url, 'rev/one', 'v1', manifest);
      const read = await getBlob(srv.url, 'rev/one', manifest.digest);
      expectStatus(read, 200);
      assert.deepEqual(read.body, manifest.bytes);
      assert.equal(header(read, 'docker-content-digest'), manifest.digest);
      expectError(await getBlob(srv.url, 'rev/two', manifest.digest), 404, 'BLOB_UNKNOWN');
      expectEmpty(await deleteManifest(srv.url, 'rev/one', manifest.digest), 202);
      expectError(await getBlob(srv.url, 'rev/one', manifest.digest), 404, 'BLOB_UNKNOWN');
    });
  });

  describe('Range', () => {
    const blob = content('0123456789');
    const empty = content('');
    before(async () => {
      await pushBlob(srv.url, N, blob);
      await pushBlob(srv.url, N, empty);
    });

    const satisfiable: Array<[string, number, number]> = [
      ['bytes=0-4', 0, 4],
      ['bytes=5-', 5, 9],
      ['bytes=-3', 7, 9],
      ['bytes=-20', 0, 9],
      ['bytes=-10', 0, 9],
      ['bytes=2-100', 2, 9],
      ['bytes=9-9', 9, 9],
      ['bytes=0-0', 0, 0],
      ['BYTES=1-2', 1, 2],
      ['Bytes=3-', 3, 9],
    ];
    for (const [range, start, end] of satisfiable) {
      it(`${range} → 206 bytes ${start}-${end}/10`, async () => {
        const response = await getBlob(srv.url, N, blob.digest, { headers: { range } });
        expectStatus(response, 206);
        assert.equal(header(response, 'content-range'), `bytes ${start}-${end}/10`);
        expectBlobHeaders(response, blob, end - start + 1);
        assert.equal(response.body.toString(), '0123456789'.slice(start, end + 1));
      });
    }

    for (const range of ['bytes=10-', 'bytes=-0', 'bytes=10-20', 'bytes=11-11']) {
      it(`${range} → 416 SIZE_INVALID`, async () => {
        const response = await getBlob(srv.url, N, blob.digest, { headers: { range } });
        expectError(response, 416, 'SIZE_INVALID');
        const contentRange = header(response, 'content-range');
        if (contentRange !== undefined) assert.equal(contentRange, 'bytes */10');
      });
    }

    const ignored = [
      'bytes=0-1,3-4',
      'items=0-5',
      'bytes=5-4',
      '0-4',
      'bytes=',
      'bytes=-',
      'bytes=abc',
      'bytes= 0-4',
      'bytes=0 -4',
      'bytes=0-4,',
      'bytes=99999999999999999999999999-',
      'bytes=0-99999999999999999999999999',
      'bytes=-99999999999999999999999999',
      'bytes=0x1-2',
      'bytes=+1-2',
      'bytes=1.5-2',
      `bytes=${'9'.repeat(8000)}-`,
    ];
    for (const range of ignored) {
      it(`unreadable range ${JSON.stringify(range.slice(0, 40))} is ignored → 200`, async () => {
        const response = await getBlob(srv.url, N, blob.digest, { headers: { range } });
        expectStatus(response, 200);
        expectBlobHeaders(response, blob, 10);
        assert.equal(header(response, 'content-range'), undefined);
        assert.equal(response.body.toString(), '0123456789');
      });
    }

    for (const range of ['bytes=0-0', 'bytes=-1', 'bytes=0-', 'bytes=5-']) {
      it(`empty blob with ${range} → 200 empty`, async () => {
        const response = await getBlob(srv.url, N, empty.digest, { headers: { range } });
        expectStatus(response, 200);
        expectBlobHeaders(response, empty, 0);
        assert.equal(response.body.length, 0);
      });
    }

    it('HEAD does not read Range: 200 describing the whole blob', async () => {
      const response = await headBlob(srv.url, N, blob.digest, { headers: { range: 'bytes=0-4' } });
      expectStatus(response, 200);
      expectBlobHeaders(response, blob, 10);
      assert.equal(response.body.length, 0);
    });
  });

  describe('DELETE', () => {
    it('unknown digest → 404 BLOB_UNKNOWN', async () => {
      expectError(await send(srv.url, 'DELETE', `/v2/${N}/blobs/${uniqueBlob().digest}`), 404, 'BLOB_UNKNOWN');
    });

    it('an owned, unreferenced blob → 202, then unreadable, then 404 on a second delete', async () => {
      const blob = uniqueBlob();
      await pushBlob(srv.url, 'del/one', blob);
      expectEmpty(await send(srv.url, 'DELETE', `/v2/del/one/blobs/${blob.digest}`), 202);
      expectError(await getBlob(srv.url, 'del/one', blob.digest), 404, 'BLOB_UNKNOWN');
      expectError(await headBlob(srv.url, 'del/one', blob.digest), 404, 'BLOB_UNKNOWN', { head: true });
      expectError(await send(srv.url, 'DELETE', `/v2/del/one/blobs/${blob.digest}`), 404, 'BLOB_UNKNOWN');
    });

    it('referenced by a live revision → 405 DENIED; after the manifest delete → 202, other owners unaffected', async () => {
      const layer = uniqueBlob('layer');
      const config = uniqueBlob('config');
      for (const name of ['del/two', 'del/other']) {
        await pushBlob(srv.url, name, layer);
      }
      await pushBlob(srv.url, 'del/two', config);
      const manifest = imageManifest({
        config: descriptorOf(config, OCI_CONFIG),
        layers: [descriptorOf(layer, OCI_LAYER)],
      });
      await pushManifest(srv.url, 'del/two', 'v1', manifest);

      for (const digest of [layer.digest, config.digest]) {
        const refused = await send(srv.url, 'DELETE', `/v2/del/two/blobs/${digest}`);
        expectError(refused, 405, 'DENIED');
        const message = errorMessage(refused);
        assert.ok(typeof message === 'string' && message.length > 0, 'the 405 message states why');
        expectStatus(await getBlob(srv.url, 'del/two', digest), 200);
      }

      // Removing the tag alone leaves the revision live.
      expectEmpty(await deleteManifest(srv.url, 'del/two', 'v1'), 202);
      expectError(await send(srv.url, 'DELETE', `/v2/del/two/blobs/${layer.digest}`), 405, 'DENIED');

      expectEmpty(await deleteManifest(srv.url, 'del/two', manifest.digest), 202);
      expectEmpty(await send(srv.url, 'DELETE', `/v2/del/two/blobs/${layer.digest}`), 202);
      expectError(await getBlob(srv.url, 'del/two', layer.digest), 404, 'BLOB_UNKNOWN');
      expectBody(await getBlob(srv.url, 'del/other', layer.digest), layer.bytes);
    });

    it('deleting in one namespace leaves another owner readable', async () => {
      const blob = uniqueBlob();
      await pushBlob(srv.url, 'del/three', blob);
      await pushBlob(srv.url, 'del/four', blob);
      expectEmpty(await send(srv.url, 'DELETE', `/v2/del/three/blobs/${blob.digest}`), 202);
      expectError(await getBlob(srv.url, 'del/three', blob.digest), 404, 'BLOB_UNKNOWN');
      expectBody(await getBlob(srv.url, 'del/four', blob.digest), blob.bytes);
    });

    it('a deleted blob can be pushed again into the namespace', async () => {
      const blob = uniqueBlob();
      await pushBlob(srv.url, 'del/five', blob);
      expectEmpty(await send(srv.url, 'DELETE', `/v2/del/five/blobs/${blob.digest}`), 202);
      await pushBlob(srv.url, 'del/five', blob);
      expectBody(await getBlob(srv.url, 'del/five', blob.digest), blob.bytes);
    });
  });
});
