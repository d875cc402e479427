import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  content,
  descriptorOf,
  DOCKER_CONFIG,
  imageIndex,
  imageManifest,
  manifestDescriptor,
  OCI_CONFIG,
  OCI_EMPTY,
  OCI_LAYER,
  sha256,
} from '../../test/support/oci.ts';
import { parseDigest } from './digest.ts';
import { OciError } from './errors.ts';
import { manifestReferences, parseManifest, referrerDescriptor, type Manifest } from './manifest.ts';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST, type MediaType } from './media-type.ts';

const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const config = descriptorOf(content('{"architecture":"amd64","os":"linux"}'), OCI_CONFIG);
const layer1 = descriptorOf(content('layer one'), OCI_LAYER);
const layer2 = descriptorOf(content('layer two'), OCI_LAYER);

function body(json: unknown): Buffer {
  return Buffer.from(JSON.stringify(json));
}

function parse(json: unknown, contentType: MediaType = OCI_MANIFEST): Manifest {
  return parseManifest(body(json), contentType);
}

function digests(descriptors: ReadonlyArray<{ digest: string }>): string[] {
  return descriptors.map((descriptor) => descriptor.digest).sort();
}

function expectInvalid(bytes: Buffer, contentType: MediaType, label: string): void {
  assert.throws(
    () => parseManifest(bytes, contentType),
    (error: unknown) => error instanceof OciError && error.code === 'MANIFEST_INVALID',
    label,
  );
}

const image = imageManifest({ config, layers: [layer1, layer2], annotations: { 'org.example': 'yes' } });
const platformChild = { os: 'linux', architecture: 'arm64', variant: 'v8' };
const children = [manifestDescriptor(image, { platform: platformChild }), manifestDescriptor(imageManifest({ config }))];
const index = imageIndex({ manifests: children });

test('an OCI image manifest parses with its config, layers and annotations', () => {
  const manifest = parseManifest(image.bytes, OCI_MANIFEST);
  assert.equal(manifest.mediaType, OCI_MANIFEST);
  assert.equal(manifest.config?.digest, config.digest);
  assert.equal(manifest.config?.size, config.size);
  assert.equal(manifest.config?.mediaType, OCI_CONFIG);
  assert.deepEqual(
    manifest.layers.map((layer) => layer.digest),
    [layer1.digest, layer2.digest],
  );
  assert.deepEqual(manifest.manifests, []);
  assert.deepEqual(manifest.annotations, { 'org.example': 'yes' });
});

test('a manifest body without mediaType parses under the Content-Type', () => {
  const bare = imageManifest({ config, layers: [layer1], mediaType: null });
  const manifest = parseManifest(bare.bytes, OCI_MANIFEST);
  assert.equal(manifest.mediaType, undefined);
  assert.equal(manifest.layers.length, 1);
});

test('an OCI index parses with its children and their platforms', () => {
  const manifest = parseManifest(index.bytes, OCI_INDEX);
  assert.equal(manifest.mediaType, OCI_INDEX);
  assert.equal(manifest.config, undefined);
  assert.deepEqual(manifest.layers, []);
  assert.equal(manifest.manifests.length, 2);
  assert.equal(manifest.manifests[0]?.digest, image.digest);
  assert.deepEqual(manifest.manifests[0]?.platform, platformChild);
});

test('Docker schema 2 manifests and manifest lists parse', () => {
  const dockerConfig = descriptorOf(content('{"os":"linux"}'), DOCKER_CONFIG);
  const dockerLayer = descriptorOf(content('docker layer'), DOCKER_LAYER);
  const schema2 = { schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: dockerConfig, layers: [dockerLayer] };
  const parsed = parse(schema2, DOCKER_MANIFEST);
  assert.equal(parsed.mediaType, DOCKER_MANIFEST);
  assert.equal(parsed.config?.digest, dockerConfig.digest);
  assert.deepEqual(digests(parsed.layers), [dockerLayer.digest]);

  const child = { ...descriptorOf(content(JSON.stringify(schema2)), DOCKER_MANIFEST), platform: { os: 'linux', architecture: 'amd64' } };
  const list = parse({ schemaVersion: 2, mediaType: DOCKER_MANIFEST_LIST, manifests: [child] }, DOCKER_MANIFEST_LIST);
  assert.equal(list.mediaType, DOCKER_MANIFEST_LIST);
  assert.deepEqual(digests(list.manifests), [child.digest]);
  assert.deepEqual(list.manifests[0]?.platform, { os: 'linux', architecture: 'amd64' });
});

test('an artifact manifest keeps its artifactType and subject', () => {
  const subject = manifestDescriptor(image);
  const artifact = imageManifest({
    config: descriptorOf(content('{}'), OCI_EMPTY),
    artifactType: 'application/vnd.example.sig.v1+json',
    subject,
  });
  const manifest = parseManifest(artifact.bytes, OCI_MANIFEST);
  assert.equal(manifest.artifactType, 'application/vnd.example.sig.v1+json');
  assert.equal(manifest.subject?.digest, image.digest);
  assert.equal(manifest.subject?.size, image.size);
});

test('an index may carry a null config and an empty layers list', () => {
  const child = manifestDescriptor(image);
  const manifest = parse({ schemaVersion: 2, mediaType: OCI_INDEX, config: null, layers: [], manifests: [child] }, OCI_INDEX);
  assert.deepEqual(digests(manifest.manifests), [child.digest]);
});

test('invalid manifests are MANIFEST_INVALID', () => {
  const child = manifestDescriptor(image);
  const badDigest = { ...layer1, digest: layer1.digest.toUpperCase().replace('SHA256', 'sha256') };
  const cases: Array<[string, Buffer, MediaType]> = [
    ['schemaVersion 1', body({ schemaVersion: 1, mediaType: OCI_MANIFEST, config, layers: [] }), OCI_MANIFEST],
    ['schemaVersion missing', body({ mediaType: OCI_MANIFEST, config, layers: [] }), OCI_MANIFEST],
    ['schemaVersion as a string', body({ schemaVersion: '2', config, layers: [] }), OCI_MANIFEST],
    ['layers and manifests', body({ schemaVersion: 2, layers: [layer1], manifests: [child] }), OCI_INDEX],
    ['config and manifests', body({ schemaVersion: 2, config, manifests: [child] }), OCI_INDEX],
    ['body mediaType differs from Content-Type', image.bytes, OCI_INDEX],
    ['index body pushed as an image manifest', index.bytes, OCI_MANIFEST],
    ['Docker body pushed as OCI', body({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config, layers: [] }), OCI_MANIFEST],
    ['JSON array', body([]), OCI_MANIFEST],
    ['JSON string', body('manifest'), OCI_MANIFEST],
    ['JSON number', body(2), OCI_MANIFEST],
    ['JSON null', body(null), OCI_MANIFEST],
    ['truncated JSON', Buffer.from('{"schemaVersion":2,'), OCI_MANIFEST],
    ['empty body', Buffer.alloc(0), OCI_MANIFEST],
    ['trailing comma', Buffer.from('{"schemaVersion":2,}'), OCI_MANIFEST],
    ['layer digest upper-case', body({ schemaVersion: 2, config, layers: [badDigest] }), OCI_MANIFEST],
    ['layer digest malformed', body({ schemaVersion: 2, config, layers: [{ ...layer1, digest: 'sha256:zz' }] }), OCI_MANIFEST],
    ['layer digest missing', body({ schemaVersion: 2, config, layers: [{ mediaType: OCI_LAYER, size: 1 }] }), OCI_MANIFEST],
    ['layer size negative', body({ schemaVersion: 2, config, layers: [{ ...layer1, size: -1 }] }), OCI_MANIFEST],
    ['layer size fractional', body({ schemaVersion: 2, config, layers: [{ ...layer1, size: 1.5 }] }), OCI_MANIFEST],
    ['layer size a string', body({ schemaVersion: 2, config, layers: [{ ...layer1, size: '9' }] }), OCI_MANIFEST],
    ['layer size missing', body({ schemaVersion: 2, config, layers: [{ mediaType: OCI_LAYER, digest: layer1.digest }] }), OCI_MANIFEST],
    ['layer mediaType missing', body({ schemaVersion: 2, config, layers: [{ digest: layer1.digest, size: 9 }] }), OCI_MANIFEST],
    ['layer mediaType malformed', body({ schemaVersion: 2, config, layers: [{ ...layer1, mediaType: 'not a type' }] }), OCI_MANIFEST],
    ['layers not an array', body({ schemaVersion: 2, config, layers: { 0: layer1 } }), OCI_MANIFEST],
    ['config not an object', body({ schemaVersion: 2, config: 'config', layers: [] }), OCI_MANIFEST],
    ['config digest malformed', body({ schemaVersion: 2, config: { ...config, digest: 'md5:00' }, layers: [] }), OCI_MANIFEST],
    ['index child size negative', body({ schemaVersion: 2, manifests: [{ ...child, size: -5 }] }), OCI_INDEX],
    ['index child digest malformed', body({ schemaVersion: 2, manifests: [{ ...child, digest: 'sha256:abc' }] }), OCI_INDEX],
    ['subject digest malformed', body({ schemaVersion: 2, config, layers: [], subject: { ...child, digest: 'x' } }), OCI_MANIFEST],
  ];
  for (const [label, bytes, contentType] of cases) expectInvalid(bytes, contentType, label);
});

test('referrer descriptors take the manifest artifactType, else the config media type', () => {
  const explicit = imageManifest({
    config: descriptorOf(content('{}'), OCI_EMPTY),
    artifactType: 'application/vnd.example.sig.v1+json',
  });
  const digest = parseDigest(explicit.digest);
  assert.deepEqual(referrerDescriptor(parseManifest(explicit.bytes, OCI_MANIFEST), digest, explicit.size), {
    mediaType: OCI_MANIFEST,
    digest: explicit.digest,
    size: explicit.size,
    artifactType: 'application/vnd.example.sig.v1+json',
  });

  const sbomConfig = descriptorOf(content('{"sbom":true}'), 'application/vnd.example.sbom.v1+json');
  const fallback = imageManifest({ config: sbomConfig });
  const entry = referrerDescriptor(parseManifest(fallback.bytes, OCI_MANIFEST), parseDigest(fallback.digest), fallback.size);
  assert.equal(entry.artifactType, 'application/vnd.example.sbom.v1+json');
});

test('referrer descriptors fall back to the media type the shape implies', () => {
  const digest = parseDigest(sha256('referrer'));
  const bareImage = parse({ schemaVersion: 2, config, layers: [layer1] });
  assert.equal(referrerDescriptor(bareImage, digest, 10).mediaType, OCI_MANIFEST);
  const bareIndex = parse({ schemaVersion: 2, manifests: [manifestDescriptor(image)] }, OCI_INDEX);
  assert.equal(referrerDescriptor(bareIndex, digest, 10).mediaType, OCI_INDEX);
  const bareEmpty = parse({ schemaVersion: 2 }, OCI_INDEX);
  assert.equal(referrerDescriptor(bareEmpty, digest, 10).mediaType, OCI_MANIFEST);
  const docker = parse({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config, layers: [] }, DOCKER_MANIFEST);
  assert.equal(referrerDescriptor(docker, digest, 10).mediaType, DOCKER_MANIFEST);
});

test('an index without artifactType lists none, and empty annotations are omitted', () => {
  const digest = parseDigest(index.digest);
  const entry = referrerDescriptor(parseManifest(index.bytes, OCI_INDEX), digest, index.size);
  assert.deepEqual(entry, { mediaType: OCI_INDEX, digest: index.digest, size: index.size });
  assert.equal('artifactType' in entry, false);
  assert.equal('annotations' in entry, false);

  const emptyAnnotations = imageManifest({ config, annotations: {} });
  const withoutAnnotations = referrerDescriptor(parseManifest(emptyAnnotations.bytes, OCI_MANIFEST), digest, 1);
  assert.equal('annotations' in withoutAnnotations, false);

  const annotated = imageManifest({ config, annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' } });
  const withAnnotations = referrerDescriptor(parseManifest(annotated.bytes, OCI_MANIFEST), digest, 1);
  assert.deepEqual(withAnnotations.annotations, { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' });
});

test('a manifest references its config, its layers and its index children, not its subject', () => {
  const subject = manifestDescriptor(imageManifest({ config }));
  const withSubject = imageManifest({ config, layers: [layer1, layer2], subject });
  assert.deepEqual(
    digests(manifestReferences(parseManifest(withSubject.bytes, OCI_MANIFEST))),
    [config.digest, layer1.digest, layer2.digest].sort(),
  );
  assert.deepEqual(digests(manifestReferences(parseManifest(index.bytes, OCI_INDEX))), digests(children));
});
