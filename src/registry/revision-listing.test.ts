import assert from 'node:assert/strict';
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
import { parseNamespace } from '../oci/name.ts';
import { parseTag } from '../oci/tag.ts';
import { openTestRegistry, pushTo, TEST_ACTOR } from './registry-fixture.ts';
import type { Registry } from './registry.ts';
import type { RevisionSummary } from './revision-listing.ts';

const NS = parseNamespace('team/app')!;

async function openRegistry(t: TestContext): Promise<Registry> {
  const { registry, cleanup } = await openTestRegistry();
  t.after(cleanup);
  return registry;
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
  for (const tag of ['v2', 'latest', 'v1']) await pushTo(registry, NS, tag, image);
  await pushTo(registry, NS, 'gone', other);
  await registry.manifests.deleteTag(NS, parseTag('gone')!, TEST_ACTOR);
  // Same manifest in another namespace: its tags are not this namespace's.
  await pushTo(registry, 'team/other', 'elsewhere', image);

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
  await pushTo(registry, NS, 'v1', image);
  await registry.manifests.deleteRevision(NS, parseDigest(image.digest), TEST_ACTOR);
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
  await pushTo(registry, NS, amd64.digest, amd64);
  await pushTo(registry, NS, arm64.digest, arm64);
  await pushTo(registry, NS, attestation.digest, attestation);
  await pushTo(registry, NS, 'latest', index);
  await pushTo(registry, NS, 'stable', index);

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
  await pushTo(registry, NS, 'v1', subject);
  const referrers: Manifest[] = [];
  for (let i = 0; i < 101; i++) {
    const referrer = imageManifest({
      artifactType: 'application/vnd.example.sig',
      config: descriptorOf(content('{}'), OCI_EMPTY),
      subject: manifestDescriptor(subject),
      annotations: { n: String(i) },
    });
    referrers.push(referrer);
    await pushTo(registry, NS, referrer.digest, referrer);
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
