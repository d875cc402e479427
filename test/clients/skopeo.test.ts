import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { requireBinary, runBinary, type RunResult } from '../support/binaries.ts';
import { expectError, expectStatus, header } from '../support/expect.ts';
import { singlePlatformImage, twoPlatformIndex, type BuiltImage } from '../support/images.ts';
import { OCI_INDEX, OCI_MANIFEST, sha256 } from '../support/oci.ts';
import { expectLayoutHoldsImage, readLayoutBlob } from '../support/oci-layout.ts';
import { getManifest, headBlob } from '../support/registry.ts';
import { startServer, type RunningServer } from '../support/server.ts';

// Plain HTTP on loopback, and no retries: a flaky registry answer must fail the test, not be papered over.
const SRC = ['--src-tls-verify=false', '--retry-times', '0'];
const DEST = ['--dest-tls-verify=false', '--retry-times', '0'];
const REGISTRY = ['--tls-verify=false', '--retry-times', '0'];

function skopeo(args: string[]): Promise<RunResult> {
  return runBinary('skopeo', args);
}

interface ImageManifest {
  config: { digest: string };
  layers: Array<{ digest: string; size: number }>;
}

describe('skopeo against the registry', () => {
  let server: RunningServer;
  let host: string;

  before(async () => {
    server = await startServer();
    host = `127.0.0.1:${server.port}`;
  });
  after(async () => {
    await server?.stop();
  });

  const docker = (repository: string, reference: string): string =>
    `docker://${host}/${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;

  async function push(image: BuiltImage, repository: string, tag: string): Promise<void> {
    await skopeo(['copy', '--all', ...DEST, `oci:${image.layoutDir}:${image.tag}`, docker(repository, tag)]);
  }

  /** Pulls `source` into a fresh layout and asserts it is the same image, every blob byte for byte. */
  async function expectPullsBackIdentical(t: TestContext, image: BuiltImage, source: string): Promise<void> {
    const outDir = await mkdtemp(join(tmpdir(), 'angos-skopeo-out-'));
    t.after(() => rm(outDir, { recursive: true, force: true }));
    await skopeo(['copy', '--all', ...SRC, source, `oci:${outDir}:back`]);
    await expectLayoutHoldsImage(outDir, 'back', image.layoutDir, image.root);
  }

  async function expectServesManifest(repository: string, reference: string, digest: string, mediaType: string): Promise<void> {
    const response = await getManifest(server.url, repository, reference);
    expectStatus(response, 200);
    assert.equal(sha256(response.body), digest, `stored bytes of ${repository}:${reference}`);
    assert.equal(header(response, 'docker-content-digest'), digest);
    assert.equal(header(response, 'content-type'), mediaType);
  }

  test('copy --all of a single-platform image round-trips byte for byte', async (t) => {
    if (!requireBinary(t, 'skopeo', 'umoci')) return;
    const image = await singlePlatformImage();
    await push(image, 'clients/single', 'v1');

    await expectServesManifest('clients/single', 'v1', image.root.digest, OCI_MANIFEST);
    await expectServesManifest('clients/single', image.root.digest, image.root.digest, OCI_MANIFEST);
    await expectPullsBackIdentical(t, image, docker('clients/single', 'v1'));
  });

  test('copy --all of a two-platform index round-trips index, children and blobs', async (t) => {
    if (!requireBinary(t, 'skopeo', 'umoci')) return;
    const image = await twoPlatformIndex();
    await push(image, 'clients/multi', 'v1');

    await expectServesManifest('clients/multi', 'v1', image.root.digest, OCI_INDEX);
    const index = JSON.parse((await readLayoutBlob(image.layoutDir, image.root.digest)).toString('utf8')) as {
      manifests: Array<{ digest: string; platform: { architecture: string } }>;
    };
    assert.deepEqual(index.manifests.map((child) => child.platform.architecture), ['amd64', 'arm64']);
    for (const child of index.manifests) {
      await expectServesManifest('clients/multi', child.digest, child.digest, OCI_MANIFEST);
    }
    await expectPullsBackIdentical(t, image, docker('clients/multi', 'v1'));
  });

  test('inspect --raw returns the exact pushed manifest and index bytes', async (t) => {
    if (!requireBinary(t, 'skopeo', 'umoci')) return;
    for (const image of [await singlePlatformImage(), await twoPlatformIndex()]) {
      await push(image, 'clients/raw', image.tag);
      const byTag = await skopeo(['inspect', '--raw', ...REGISTRY, docker('clients/raw', image.tag)]);
      assert.equal(sha256(byTag.stdout), image.root.digest, `inspect --raw of tag ${image.tag}`);
      const byDigest = await skopeo(['inspect', '--raw', ...REGISTRY, docker('clients/raw', image.root.digest)]);
      assert.ok(byDigest.stdout.equals(byTag.stdout), 'inspect --raw by digest and by tag differ');
    }
  });

  test('inspect parses the image config, and --config --raw returns the config blob', async (t) => {
    if (!requireBinary(t, 'skopeo', 'umoci')) return;
    const image = await singlePlatformImage();
    await push(image, 'clients/inspect', 'v1');
    const manifest = JSON.parse((await readLayoutBlob(image.layoutDir, image.root.digest)).toString('utf8')) as ImageManifest;

    const { stdout } = await skopeo(['inspect', ...REGISTRY, docker('clients/inspect', 'v1')]);
    const inspected = JSON.parse(stdout.toString('utf8')) as Record<string, unknown>;
    assert.equal(inspected.Name, `${host}/clients/inspect`);
    assert.equal(inspected.Digest, image.root.digest);
    assert.equal(inspected.Os, 'linux');
    assert.equal(inspected.Architecture, 'amd64');
    assert.deepEqual(inspected.Layers, manifest.layers.map((layer) => layer.digest));
    assert.deepEqual(inspected.RepoTags, ['v1']);

    const config = await skopeo(['inspect', '--config', '--raw', ...REGISTRY, docker('clients/inspect', 'v1')]);
    assert.equal(sha256(config.stdout), manifest.config.digest);
  });

  test('list-tags lists exactly the pushed tags', async (t) => {
    if (!requireBinary(t, 'skopeo', 'umoci')) return;
    const image = await singlePlatformImage();
    for (const tag of ['v2', 'latest', 'v1']) await push(image, 'clients/tags', tag);
    const { stdout } = await skopeo(['list-tags', ...REGISTRY, `docker://${host}/clients/tags`]);
    const listed = JSON.parse(stdout.toString('utf8')) as { Repository: string; Tags: string[] };
    assert.equal(listed.Repository, `${host}/clients/tags`);
    assert.deepEqual([...listed.Tags].sort(), ['latest', 'v1', 'v2']);
  });

  test('copies an index by digest', async (t) => {
    if (!requireBinary(t, 'skopeo', 'umoci')) return;
    const image = await twoPlatformIndex();
    await push(image, 'clients/by-digest', 'v1');
    await expectPullsBackIdentical(t, image, docker('clients/by-digest', image.root.digest));

    // Pushing by digest stores the index untagged: still served, and no tag appears for it.
    await skopeo(['copy', '--all', ...SRC, ...DEST, docker('clients/by-digest', image.root.digest), docker('clients/by-digest-copy', image.root.digest)]);
    await expectServesManifest('clients/by-digest-copy', image.root.digest, image.root.digest, OCI_INDEX);
    await expectPullsBackIdentical(t, image, docker('clients/by-digest-copy', image.root.digest));
  });

  test('copy between two namespaces mounts the layer instead of uploading it again', async (t) => {
    if (!requireBinary(t, 'skopeo', 'umoci')) return;
    const image = await singlePlatformImage();
    await push(image, 'clients/source', 'v1');
    const manifest = JSON.parse((await readLayoutBlob(image.layoutDir, image.root.digest)).toString('utf8')) as ImageManifest;
    const layer = manifest.layers[0]!;
    // Namespaces are isolated: until the copy, the target cannot read the layer (so skopeo must mount it).
    expectError(await headBlob(server.url, 'clients/mounted', layer.digest), 404, 'BLOB_UNKNOWN', { head: true });

    const copy = await skopeo(['--debug', 'copy', '--all', ...SRC, ...DEST, docker('clients/source', 'v1'), docker('clients/mounted', 'v1')]);
    expectMounted(copy.stderr, 'clients/mounted', layer.digest);

    const head = await headBlob(server.url, 'clients/mounted', layer.digest);
    expectStatus(head, 200);
    assert.equal(header(head, 'content-length'), String(layer.size));
    await expectServesManifest('clients/mounted', 'v1', image.root.digest, OCI_MANIFEST);
    await expectPullsBackIdentical(t, image, docker('clients/mounted', 'v1'));
  });

  test('delete by tag removes the revision, so every tag on it reads 404', async (t) => {
    if (!requireBinary(t, 'skopeo', 'umoci')) return;
    const image = await singlePlatformImage();
    await push(image, 'clients/delete-tag', 'a');
    await push(image, 'clients/delete-tag', 'b');
    // skopeo resolves the tag and deletes the manifest by digest (Distribution has no tag delete).
    await skopeo(['delete', ...REGISTRY, docker('clients/delete-tag', 'a')]);
    for (const reference of ['a', 'b', image.root.digest]) {
      expectError(await getManifest(server.url, 'clients/delete-tag', reference), 404, 'MANIFEST_UNKNOWN');
    }
  });

  test('delete by digest removes the manifest and its tag', async (t) => {
    if (!requireBinary(t, 'skopeo', 'umoci')) return;
    const image = await twoPlatformIndex();
    await push(image, 'clients/delete-digest', 'v1');
    await skopeo(['delete', ...REGISTRY, docker('clients/delete-digest', image.root.digest)]);
    for (const reference of [image.root.digest, 'v1']) {
      expectError(await getManifest(server.url, 'clients/delete-digest', reference), 404, 'MANIFEST_UNKNOWN');
    }
    // The children were pushed in their own right and are not part of the deleted index revision.
    const index = JSON.parse((await readLayoutBlob(image.layoutDir, image.root.digest)).toString('utf8')) as {
      manifests: Array<{ digest: string }>;
    };
    for (const child of index.manifests) expectStatus(await getManifest(server.url, 'clients/delete-digest', child.digest), 200);
  });
});

/**
 * skopeo falls back to a full upload when a mount answers 202, and the copy still succeeds, so only its
 * debug log tells whether the registry honoured the mount. containers/image logs "Trying to mount <path>"
 * then either "... mount OK" (201) or "... started an upload instead of mounting" (202).
 */
function expectMounted(debugLog: string, targetRepository: string, digest: string): void {
  const lines = debugLog.split('\n');
  const hex = digest.slice('sha256:'.length);
  const attempt = lines.findIndex(
    (line) => line.includes(`Trying to mount /v2/${targetRepository}/blobs/uploads/`) && line.includes(hex),
  );
  assert.ok(attempt !== -1, `skopeo never tried to mount ${digest} into ${targetRepository}:\n${debugLog}`);
  const outcome = lines.slice(attempt + 1).find((line) => /\.\.\. (mount OK|started an upload)/.test(line));
  assert.match(outcome ?? '(no outcome logged)', /mount OK/, `mount of ${digest} into ${targetRepository} was not honoured`);
}
