// skopeo against the registry on a real S3 server (Ceph RGW) with blob and manifest redirects on: every blob and
// manifest GET answers 307 to a presigned URL of the gateway, and skopeo follows it and verifies each digest.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { requireBinary, runBinary } from '../support/binaries.ts';
import { singlePlatformImage, twoPlatformIndex } from '../support/images.ts';
import { expectLayoutHoldsImage } from '../support/oci-layout.ts';
import { RgwFixture } from '../support/rgw-fixture.ts';
import { s3StorageToml, startServer, type RunningServer } from '../support/server.ts';

interface AccessLine {
  target?: string;
  fields: { method?: string; path?: string; status?: number };
}

describe('skopeo following presigned S3 redirects', () => {
  let fixture: RgwFixture;
  let server: RunningServer;
  let host: string;

  before(async () => {
    fixture = await RgwFixture.start();
    server = await startServer({
      storageToml: s3StorageToml(fixture, 'redirects/'),
      extraToml: '[global]\nenable_blob_redirect = true\nenable_manifest_redirect = true\n',
    });
    host = `127.0.0.1:${server.port}`;
  });
  after(async () => {
    await server?.stop();
    await fixture?.close();
  });

  /** Access-log statuses of GETs under `/v2/<repository>/<kind>/` since `from` log lines. */
  function getStatuses(repository: string, kind: 'blobs' | 'manifests', from: number): number[] {
    return (server.logs.slice(from) as unknown as AccessLine[])
      .filter((line) => line.target === 'angos::http::access' && line.fields.method === 'GET' && line.fields.path?.startsWith(`/v2/${repository}/${kind}/`))
      .map((line) => line.fields.status!);
  }

  for (const [name, build] of [
    ['a single-platform image', singlePlatformImage],
    ['a two-platform index', twoPlatformIndex],
  ] as const) {
    test(`copy --all of ${name} round-trips through redirects byte for byte`, async (t) => {
      if (!requireBinary(t, 'skopeo', 'umoci')) return;
      const image = await build();
      const repository = `redirects/${name.split(' ').at(-1)}`;
      await runBinary('skopeo', ['copy', '--all', '--dest-tls-verify=false', '--retry-times', '0', `oci:${image.layoutDir}:${image.tag}`, `docker://${host}/${repository}:v1`]);

      const outDir = await mkdtemp(join(tmpdir(), 'angos-skopeo-s3-'));
      t.after(() => rm(outDir, { recursive: true, force: true }));
      const from = server.logs.length;
      await runBinary('skopeo', ['copy', '--all', '--src-tls-verify=false', '--retry-times', '0', `docker://${host}/${repository}:v1`, `oci:${outDir}:back`]);

      await expectLayoutHoldsImage(outDir, 'back', image.layoutDir, image.root);

      const blobGets = getStatuses(repository, 'blobs', from);
      assert.ok(blobGets.length > 0, 'skopeo fetched blobs');
      assert.deepEqual([...new Set(blobGets)], [307], 'every blob GET was a redirect');
      assert.ok(getStatuses(repository, 'manifests', from).includes(307), 'manifests by digest were redirected too');
    });
  }
});
