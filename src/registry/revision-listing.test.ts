import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import {
  content,
  descriptorOf,
  imageIndex,
  imageManifest,
  manifestDescriptor,
  OCI_EMPTY,
  OCI_LAYER,
  type Manifest,
} from '../../test/support/oci.ts';
import { parseDigest } from '../oci/digest.ts';
import type { MediaType } from '../oci/media-type.ts';
import { parseNamespace, type Namespace } from '../oci/name.ts';
import { parseReference } from '../oci/reference.ts';
import { parseTag } from '../oci/tag.ts';
import { openFsStore } from '../storage/open-store.ts';
import { Registry } from './registry.ts';
import type { RevisionSummary } from './revision-listing.ts';

const NS = parseNamespace('team/app')!;

async function openRegistry(t: TestContext): Promise<Registry> {
  const root = await mkdtemp(join(tmpdir(), 'angos-revisions-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const store = openFsStore(root, false);
  return new Registry(store, store, () => ({
    maxManifestSize: 1 << 20,
    maxBlobSize: 1 << 20,
    allowMissingManifestReferences: true,
    isImmutable: () => false,
  }));
}

async function push(registry: Registry, reference: string, manifest: Manifest, ns: Namespace = NS): Promise<void> {
  await registry.manifests.push(ns, {
    reference: parseReference(reference)!,
    contentType: manifest.mediaType as MediaType,
    body: manifest.bytes,
    extraTags: [],
  });
}

function entryOf(entries: RevisionSummary[], digest: string): RevisionSummary {
  const entry = entries.find((e) => e.digest === digest);
  assert.ok(entry, `no entry for ${digest}`);
  return entry;
}

test('one entry per revision, sorted by digest, with its live tags sorted and its push time', async (t) => {
  const registry = await openRegistry(t);
  const image = imageManifest();
  const other = imageManifest();
  const before = Date.now();
  for (const tag of ['v2', 'latest', 'v1']) await push(registry, tag, image);
  await push(registry, 'gone', other);
  await registry.manifests.deleteTag(NS, parseTag('gone')!);
  // Same manifest in another namespace: its tags are not this namespace's.
  await push(registry, 'elsewhere', image, parseNamespace('team/other')!);

  const entries = await registry.revisionListing.list(NS);
  assert.deepEqual(
    entries.map((e) => e.digest),
    [image.digest, other.digest].sort(),
  );
  assert.deepEqual(entryOf(entries, image.digest).tags, ['latest', 'v1', 'v2']);
  assert.deepEqual(entryOf(entries, other.digest).tags, []);
  const pushedAt = Date.parse(entryOf(entries, image.digest).pushedAt ?? '');
  assert.ok(pushedAt >= before - 1000 && pushedAt <= Date.now() + 1000);
  assert.deepEqual(await registry.revisionListing.list(parseNamespace('team/none')!), []);
});

test('a deleted revision is no longer listed', async (t) => {
  const registry = await openRegistry(t);
  const image = imageManifest();
  await push(registry, 'v1', image);
  await registry.manifests.deleteRevision(NS, parseDigest(image.digest));
  assert.deepEqual(await registry.revisionListing.list(NS), []);
});

test('Docker attestations are referrers of the image they attest, not children of the index', async (t) => {
  const registry = await openRegistry(t);
  const amd64 = imageManifest();
  const arm64 = imageManifest();
  const predicateLayer = descriptorOf(content('{"predicate":1}'), 'application/vnd.in-toto+json', {
    annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' },
  });
  const attestation = imageManifest({ layers: [descriptorOf(content('plain'), OCI_LAYER), predicateLayer] });
  const index = imageIndex({
    manifests: [
      manifestDescriptor(amd64, { platform: { os: 'linux', architecture: 'amd64' } }),
      manifestDescriptor(arm64),
      manifestDescriptor(attestation, {
        platform: { os: 'unknown', architecture: 'unknown' },
        annotations: { 'vnd.docker.reference.digest': amd64.digest, 'vnd.docker.reference.type': 'attestation-manifest' },
      }),
    ],
  });
  await push(registry, amd64.digest, amd64);
  await push(registry, arm64.digest, arm64);
  await push(registry, attestation.digest, attestation);
  await push(registry, 'latest', index);
  await push(registry, 'stable', index);

  const entries = await registry.revisionListing.list(NS);
  assert.deepEqual(entryOf(entries, amd64.digest).parents, [
    { digest: index.digest, tags: ['latest', 'stable'], platform: { os: 'linux', architecture: 'amd64' } },
  ]);
  assert.deepEqual(entryOf(entries, arm64.digest).parents, [{ digest: index.digest, tags: ['latest', 'stable'] }]);
  assert.deepEqual(entryOf(entries, amd64.digest).referrers, [
    {
      digest: attestation.digest,
      annotations: {
        'vnd.docker.reference.digest': amd64.digest,
        'vnd.docker.reference.type': 'attestation-manifest',
        'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2',
      },
    },
  ]);
  assert.deepEqual(entryOf(entries, attestation.digest).parents, []);
  assert.deepEqual(entryOf(entries, arm64.digest).referrers, []);
  assert.deepEqual(entryOf(entries, index.digest).parents, []);
});

test('referrers show the first page of the referrers API and its cursor', async (t) => {
  const registry = await openRegistry(t);
  const subject = imageManifest();
  await push(registry, 'v1', subject);
  const referrers: Manifest[] = [];
  for (let i = 0; i < 101; i++) {
    const referrer = imageManifest({
      artifactType: 'application/vnd.example.sig',
      config: descriptorOf(content('{}'), OCI_EMPTY),
      subject: manifestDescriptor(subject),
      annotations: { n: String(i) },
    });
    referrers.push(referrer);
    await push(registry, referrer.digest, referrer);
  }

  const entry = entryOf(await registry.revisionListing.list(NS), subject.digest);
  const sorted = referrers.map((r) => r.digest).sort();
  assert.equal(entry.referrers.length, 100);
  assert.deepEqual(
    entry.referrers.map((r) => r.digest),
    sorted.slice(0, 100),
  );
  assert.equal(entry.referrersNext, sorted[99]);
  const first = referrers.find((r) => r.digest === sorted[0])!;
  assert.deepEqual(entry.referrers[0], { digest: first.digest, artifactType: 'application/vnd.example.sig', annotations: first.json.annotations });
});
