// The referrers API (docs/api.md, "Referrers"): descriptors, artifactType filter, paging, fallback tag; and the
// `OCI-Subject` of a push.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { expectEmpty, expectError, expectNextLink, expectStatus, header } from '../support/expect.ts';
import { jsonBody, mediaTypeOf, request, type HttpResponse } from '../support/http.ts';
import {
  content,
  descriptorOf,
  fallbackTag,
  imageIndex,
  imageManifest,
  manifestDescriptor,
  OCI_EMPTY,
  OCI_INDEX,
  OCI_MANIFEST,
  type Descriptor,
  type Manifest,
} from '../support/oci.ts';
import { deleteManifest, inParallel, pushManifest, putManifest } from '../support/registry.ts';
import { useServer } from '../support/registry-server.ts';

const N = 'test/app';
const SIG = 'application/vnd.test.sig+json';
const SBOM = 'application/vnd.test.sbom+json';
const EMPTY_CONFIG = descriptorOf(content('{}'), OCI_EMPTY);

interface ReferrersBody {
  schemaVersion: number;
  mediaType: string;
  manifests: Descriptor[];
}

function referrersOf(response: HttpResponse): ReferrersBody {
  expectStatus(response, 200);
  assert.equal(mediaTypeOf(response), OCI_INDEX);
  const body = jsonBody(response) as ReferrersBody;
  assert.deepEqual(Object.keys(body).sort(), ['manifests', 'mediaType', 'schemaVersion']);
  assert.equal(body.schemaVersion, 2);
  assert.equal(body.mediaType, OCI_INDEX);
  assert.ok(Array.isArray(body.manifests), 'manifests is present even when empty');
  return body;
}

function byDigest(descriptors: Descriptor[]): Descriptor[] {
  return [...descriptors].sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
}

/** An artifact referring to `subject`, unique per call. */
function artifact(subject: Manifest, artifactType: string | undefined, annotations?: Record<string, string>): Manifest {
  return imageManifest({
    subject: manifestDescriptor(subject),
    config: artifactType === undefined ? descriptorOf(content(`cfg-${Math.random()}`), 'application/vnd.test.config') : EMPTY_CONFIG,
    layers: [descriptorOf(content(`layer-${Math.random()}`), 'application/vnd.test.payload')],
    ...(artifactType === undefined ? {} : { artifactType }),
    ...(annotations === undefined ? {} : { annotations }),
  });
}

describe('referrers', () => {
  const srv = useServer();

  function referrers(name: string, digest: string, query = ''): Promise<HttpResponse> {
    return request(srv.url, `/v2/${name}/referrers/${digest}${query}`);
  }

  describe('listing', () => {
    const subject = imageManifest();
    const signature = artifact(subject, SIG, { 'org.example.signer': 'ci' });
    const sbom = artifact(subject, undefined);
    const indexReferrer = imageIndex({ manifests: [manifestDescriptor(imageManifest())], subject: manifestDescriptor(subject) });

    it('a manifest whose subject is missing → 201 with OCI-Subject', async () => {
      const response = await putManifest(srv.url, N, signature.digest, signature);
      expectEmpty(response, 201);
      assert.equal(header(response, 'oci-subject'), subject.digest);
      const tagged = await putManifest(srv.url, N, 'sbom', sbom);
      expectEmpty(tagged, 201);
      assert.equal(header(tagged, 'oci-subject'), subject.digest);
      await pushManifest(srv.url, N, indexReferrer.digest, indexReferrer);
    });

    it('a manifest without subject carries no OCI-Subject', async () => {
      const response = await putManifest(srv.url, N, 'plain', imageManifest());
      expectEmpty(response, 201);
      assert.equal(header(response, 'oci-subject'), undefined);
    });

    it('lists every referrer with mediaType, digest, size, artifactType and annotations', async () => {
      const body = referrersOf(await referrers(N, subject.digest));
      assert.equal(header(await referrers(N, subject.digest), 'oci-filters-applied'), undefined);
      const expected: Descriptor[] = [
        { mediaType: OCI_MANIFEST, digest: signature.digest, size: signature.size, artifactType: SIG, annotations: { 'org.example.signer': 'ci' } },
        // No artifactType: the config media type stands in; no annotations: the field is omitted.
        { mediaType: OCI_MANIFEST, digest: sbom.digest, size: sbom.size, artifactType: 'application/vnd.test.config' },
        // An index without artifactType has none.
        { mediaType: OCI_INDEX, digest: indexReferrer.digest, size: indexReferrer.size },
      ];
      assert.deepEqual(byDigest(body.manifests), byDigest(expected));
    });

    it('?artifactType= filters by exact match and sets OCI-Filters-Applied', async () => {
      const response = await referrers(N, subject.digest, `?artifactType=${encodeURIComponent(SIG)}`);
      const body = referrersOf(response);
      assert.equal(header(response, 'oci-filters-applied'), 'artifactType');
      assert.deepEqual(body.manifests.map((d) => d.digest), [signature.digest]);

      const none = await referrers(N, subject.digest, '?artifactType=application/vnd.test.other%2Bjson');
      assert.deepEqual(referrersOf(none).manifests, []);
      assert.equal(header(none, 'oci-filters-applied'), 'artifactType');
    });

    it('a raw + in artifactType is a space (form decoding) → invalid → 400 DIGEST_INVALID', async () => {
      expectError(await referrers(N, subject.digest, `?artifactType=${SIG}`), 400, 'DIGEST_INVALID');
    });

    it('referrers are per namespace', async () => {
      assert.deepEqual(referrersOf(await referrers('other/ns', subject.digest)).manifests, []);
    });

    it('a deleted referrer leaves the list', async () => {
      expectEmpty(await deleteManifest(srv.url, N, indexReferrer.digest), 202);
      const digests = referrersOf(await referrers(N, subject.digest)).manifests.map((d) => d.digest);
      assert.deepEqual(digests.sort(), [signature.digest, sbom.digest].sort());
    });
  });

  describe('answers', () => {
    it('an unknown subject or namespace → 200 with "manifests":[]', async () => {
      const unknown = imageManifest().digest;
      assert.deepEqual(referrersOf(await referrers(N, unknown)).manifests, []);
      assert.deepEqual(referrersOf(await referrers('never/used', unknown)).manifests, []);
    });

    for (const digest of ['sha256:zz', `sha256:${'A'.repeat(64)}`, `md5:${'a'.repeat(32)}`, 'latest', `sha512:${'a'.repeat(64)}`]) {
      it(`bad digest ${digest.slice(0, 16)}… → 400 DIGEST_INVALID`, async () => {
        expectError(await referrers(N, digest), 400, 'DIGEST_INVALID');
      });
    }

    for (const artifactType of ['notatype', 'a/b/c', '%FF', 'application/json;x=1']) {
      it(`bad artifactType ${JSON.stringify(artifactType)} → 400 DIGEST_INVALID`, async () => {
        expectError(await referrers(N, imageManifest().digest, `?artifactType=${artifactType}`), 400, 'DIGEST_INVALID');
      });
    }

    it('an invalid name is an unmatched route → 404 NAME_UNKNOWN', async () => {
      expectError(await referrers('Bad', imageManifest().digest), 404, 'NAME_UNKNOWN');
    });
  });

  describe('fallback tag index', () => {
    it('descriptors of the index under <alg>-<hex> are folded in, deduplicated by digest', async () => {
      const subject = imageManifest();
      const local = artifact(subject, SIG);
      await pushManifest(srv.url, 'fb/app', local.digest, local);
      const legacy: Descriptor = {
        mediaType: OCI_MANIFEST,
        digest: imageManifest().digest,
        size: 321,
        artifactType: SBOM,
        annotations: { 'org.example.legacy': 'yes' },
      };
      const fallback = imageIndex({ manifests: [legacy, manifestDescriptor(local, { artifactType: SIG })] });
      await pushManifest(srv.url, 'fb/app', fallbackTag(subject.digest), fallback);

      const body = referrersOf(await referrers('fb/app', subject.digest));
      const digests = body.manifests.map((d) => d.digest);
      assert.equal(digests.length, 2, JSON.stringify(body));
      assert.deepEqual([...digests].sort(), [local.digest, legacy.digest].sort());
      assert.deepEqual(body.manifests.find((d) => d.digest === legacy.digest), legacy);

      const filtered = await referrers('fb/app', subject.digest, `?artifactType=${encodeURIComponent(SBOM)}`);
      assert.deepEqual(referrersOf(filtered).manifests, [legacy]);
    });
  });

  describe('paging', () => {
    const subject = imageManifest();
    const all: Manifest[] = Array.from({ length: 150 }, (_, i) => artifact(subject, i % 2 === 0 ? SIG : SBOM, { i: String(i) }));
    const sorted = [...all].sort((a, b) => (a.digest < b.digest ? -1 : 1));
    before(async () => {
      await inParallel(all, 8, (manifest) => pushManifest(srv.url, 'many/refs', manifest.digest, manifest));
    });

    it('150 referrers → 100 with a Link, then the remaining 50 without', async () => {
      const first = await referrers('many/refs', subject.digest);
      const firstPage = referrersOf(first).manifests.map((d) => d.digest);
      assert.deepEqual([...firstPage].sort(), sorted.slice(0, 100).map((m) => m.digest));
      const next = expectNextLink(first, `/v2/many/refs/referrers/${subject.digest}`, [['last', sorted[99]?.digest ?? '']]);

      const second = await request(srv.url, next);
      const secondPage = referrersOf(second).manifests.map((d) => d.digest);
      assert.deepEqual([...secondPage].sort(), sorted.slice(100).map((m) => m.digest));
      assert.equal(header(second, 'link'), undefined);
    });

    it('a filter applies per page of 100 candidates and is carried in the Link', async () => {
      const isSig = (m: Manifest): boolean => m.json.artifactType === SIG;
      const first = await referrers('many/refs', subject.digest, '?artifactType=application/vnd.test.sig%2Bjson');
      assert.equal(header(first, 'oci-filters-applied'), 'artifactType');
      const firstPage = referrersOf(first).manifests;
      assert.deepEqual(firstPage.map((d) => d.digest).sort(), sorted.slice(0, 100).filter(isSig).map((m) => m.digest));
      for (const descriptor of firstPage) assert.equal(descriptor.artifactType, SIG);
      // The filter value must survive the round trip: its `+` percent-encoded, not left to decode as a space.
      const next = expectNextLink(first, `/v2/many/refs/referrers/${subject.digest}`, [
        ['artifactType', SIG],
        ['last', sorted[99]?.digest ?? ''],
      ]);

      const second = await request(srv.url, next);
      assert.equal(header(second, 'oci-filters-applied'), 'artifactType');
      assert.deepEqual(referrersOf(second).manifests.map((d) => d.digest).sort(), sorted.slice(100).filter(isSig).map((m) => m.digest));
      assert.equal(header(second, 'link'), undefined);
    });
  });
});
