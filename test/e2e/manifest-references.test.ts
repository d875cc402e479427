// Manifest references, strict and permissive (docs/api.md, "Pushing a manifest"), and the read rule applied to them
// (docs/storage.md, "Who may read a blob").
import { describe, it } from 'node:test';
import { expectBody, expectError, expectStatus } from '../support/expect.ts';
import { send } from '../support/http.ts';
import { descriptorOf, imageIndex, imageManifest, manifestDescriptor, OCI_CONFIG, OCI_LAYER, uniqueBlob } from '../support/oci.ts';
import { getBlob, getManifest, pushBlob, pushManifest, putManifest } from '../support/registry.ts';
import { useServer } from '../support/registry-server.ts';

const N = 'test/app';

describe('allow_missing_manifest_references = false (strict)', () => {
  const srv = useServer({ global: { allow_missing_manifest_references: false } });

  it('an unpushed layer → 404 MANIFEST_BLOB_UNKNOWN, nothing stored', async () => {
    const config = uniqueBlob('config');
    await pushBlob(srv.url, N, config);
    const manifest = imageManifest({
      config: descriptorOf(config, OCI_CONFIG),
      layers: [descriptorOf(uniqueBlob('layer'), OCI_LAYER)],
    });
    expectError(await putManifest(srv.url, N, 'strict', manifest), 404, 'MANIFEST_BLOB_UNKNOWN');
    expectError(await getManifest(srv.url, N, 'strict'), 404, 'MANIFEST_UNKNOWN');
    expectError(await getManifest(srv.url, N, manifest.digest), 404, 'MANIFEST_UNKNOWN');
  });

  it('the by-digest hash is checked before references → 400 MANIFEST_INVALID', async () => {
    const manifest = imageManifest();
    expectError(await putManifest(srv.url, N, imageManifest().digest, manifest), 400, 'MANIFEST_INVALID');
  });

  it('an unpushed config → 404 MANIFEST_BLOB_UNKNOWN', async () => {
    expectError(await putManifest(srv.url, N, 'strict', imageManifest()), 404, 'MANIFEST_BLOB_UNKNOWN');
  });

  it('a layer readable only in another namespace → 404 MANIFEST_BLOB_UNKNOWN', async () => {
    const config = uniqueBlob('config');
    const layer = uniqueBlob('layer');
    await pushBlob(srv.url, N, config);
    await pushBlob(srv.url, 'a/x', layer);
    const manifest = imageManifest({ config: descriptorOf(config, OCI_CONFIG), layers: [descriptorOf(layer, OCI_LAYER)] });
    expectError(await putManifest(srv.url, N, 'elsewhere', manifest), 404, 'MANIFEST_BLOB_UNKNOWN');
    await pushBlob(srv.url, N, layer);
    await pushManifest(srv.url, N, 'elsewhere', manifest);
    expectStatus(await getManifest(srv.url, N, 'elsewhere'), 200);
  });

  it('an index child absent from the namespace → 404 MANIFEST_BLOB_UNKNOWN; pushed → 201', async () => {
    const config = uniqueBlob('config');
    await pushBlob(srv.url, 'other/ns', config);
    await pushBlob(srv.url, N, config);
    const child = imageManifest({ config: descriptorOf(config, OCI_CONFIG) });
    await pushManifest(srv.url, 'other/ns', child.digest, child);
    const index = imageIndex({ manifests: [manifestDescriptor(child)] });
    expectError(await putManifest(srv.url, N, 'multi', index), 404, 'MANIFEST_BLOB_UNKNOWN');
    await pushManifest(srv.url, N, child.digest, child);
    await pushManifest(srv.url, N, 'multi', index);
    expectBody(await getManifest(srv.url, N, 'multi'), index.bytes);
  });

  it('a subject never has to exist', async () => {
    const config = uniqueBlob('config');
    await pushBlob(srv.url, N, config);
    const referrer = imageManifest({
      config: descriptorOf(config, OCI_CONFIG),
      subject: manifestDescriptor(imageManifest()),
    });
    await pushManifest(srv.url, N, referrer.digest, referrer);
  });

  it('a blob obtained by mount satisfies the check', async () => {
    const config = uniqueBlob('config');
    await pushBlob(srv.url, 'mount/src', config);
    const mounted = await send(srv.url, 'POST', `/v2/mount/dst/blobs/uploads/?mount=${config.digest}&from=mount/src`);
    expectStatus(mounted, 201);
    await pushManifest(srv.url, 'mount/dst', 'v1', imageManifest({ config: descriptorOf(config, OCI_CONFIG) }));
  });
});

describe('allow_missing_manifest_references = true (default)', () => {
  const srv = useServer();

  it('an unpushed layer → 201, but the layer reads 404 in N', async () => {
    const layer = uniqueBlob('layer');
    const manifest = imageManifest({ layers: [descriptorOf(layer, OCI_LAYER)] });
    await pushManifest(srv.url, N, 'loose', manifest);
    expectStatus(await getManifest(srv.url, N, 'loose'), 200);
    expectError(await getBlob(srv.url, N, layer.digest), 404, 'BLOB_UNKNOWN');
  });

  it('an index child pushed only elsewhere stays MANIFEST_UNKNOWN in N', async () => {
    const child = imageManifest();
    await pushManifest(srv.url, 'c/x', child.digest, child);
    const index = imageIndex({ manifests: [manifestDescriptor(child)] });
    await pushManifest(srv.url, 'c/y', 'multi', index);
    expectError(await getManifest(srv.url, 'c/y', child.digest), 404, 'MANIFEST_UNKNOWN');
    expectStatus(await getManifest(srv.url, 'c/x', child.digest), 200);
  });
});
