// skopeo pulls through the cache (docs/pull-through.md) from two real upstreams started here: the CNCF Distribution
// registry behind htpasswd Basic auth, and a second instance of this registry over TLS from a test CA with its token
// service on (the Bearer dance). Images come back byte for byte, by tag and by digest, and once the cache fills have
// run, again with both upstreams stopped.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { findBinary, requireBinary, runBinary } from '../support/binaries.ts';
import { startDistribution, type RunningDistribution } from '../support/distribution.ts';
import { request } from '../support/http.ts';
import { singlePlatformImage, twoPlatformIndex, type BuiltImage } from '../support/images.ts';
import { expectLayoutHoldsImage } from '../support/oci-layout.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { identityToml, makeCertificates, type CertificateFiles } from '../e2e/auth-fixtures.ts';

const NO_RETRY = ['--retry-times', '0'];
const SECRET = Buffer.alloc(32, 9).toString('base64');
// The TLS upstream lets only bob pull (with a token he gets with his password) and push.
const UPSTREAM_POLICY = `[global.access_policy]
default = "deny"
rules = ["request.action == 'get-token'", "identity.username == 'bob'"]
`;

describe('skopeo through the pull-through cache', () => {
  let distribution: RunningDistribution;
  let files: CertificateFiles;
  let tokenUpstream: RunningServer;
  let cache: RunningServer;
  let cacheHost: string;

  before(async () => {
    // Each test reports missing binaries (skip locally, fail in CI); the hook only avoids useless starts.
    if (['docker-registry', 'htpasswd', 'openssl', 'skopeo', 'umoci'].some((name) => findBinary(name) === undefined)) return;
    distribution = await startDistribution({ users: [{ username: 'alice', password: 'secret' }] });
    files = await makeCertificates(await mkdtemp(join(tmpdir(), 'angos-pull-through-tls-')));
    tokenUpstream = await startServer({
      extraToml:
        (await identityToml('bob', 'bob', 'pw')) +
        `[server.tls]\nserver_certificate_bundle = ${JSON.stringify(files.serverCert)}\nserver_private_key = ${JSON.stringify(files.serverKey)}\n` +
        `[auth.token_service]\nsecret_key = "${SECRET}"\n${UPSTREAM_POLICY}`,
    });
    cache = await startServer({
      extraToml: [
        '[repository."dist"]',
        'immutable_tags = true',
        '[[repository."dist".upstream]]',
        `url = "${distribution.url}"`,
        'username = "alice"',
        'password = "secret"',
        '[repository."angos"]',
        '[[repository."angos".upstream]]',
        `url = "https://127.0.0.1:${tokenUpstream.port}/mirrored"`,
        `server_ca_bundle = ${JSON.stringify(files.caCert)}`,
        'username = "bob"',
        'password = "pw"',
      ].join('\n'),
    });
    cacheHost = `127.0.0.1:${cache.port}`;
  });
  after(async () => {
    await cache?.stop();
    await tokenUpstream?.stop();
    await distribution?.stop();
    if (files) await rm(files.dir, { recursive: true, force: true });
  });

  const skopeo = (args: string[]) => runBinary('skopeo', args);
  const ref = (host: string, repository: string, reference: string) => `docker://${host}/${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;

  /** Pulls `source` from the cache into a fresh layout and asserts it is `image`, every blob byte for byte. */
  async function expectPulledIdentical(t: TestContext, image: BuiltImage, source: string): Promise<void> {
    const outDir = await mkdtemp(join(tmpdir(), 'angos-pull-through-out-'));
    t.after(() => rm(outDir, { recursive: true, force: true }));
    await skopeo(['copy', '--all', '--src-tls-verify=false', ...NO_RETRY, source, `oci:${outDir}:back`]);
    await expectLayoutHoldsImage(outDir, 'back', image.layoutDir, image.root);
  }

  /**
   * Waits until the cache's queue has stayed empty for a second: every fill has run. (A miss queues its fill in the
   * background once the upstream's headers arrived, so one empty look right after a pull could come before it.)
   */
  async function fillsDone(): Promise<void> {
    const deadline = Date.now() + 30_000;
    let emptySince: number | undefined;
    for (;;) {
      const listed = await request(cache.url, '/v2/_angos/jobs/list?queue=cache');
      assert.equal(listed.status, 200);
      const empty = (JSON.parse(listed.body.toString()) as { jobs: unknown[] }).jobs.length === 0;
      emptySince = empty ? (emptySince ?? Date.now()) : undefined;
      if (emptySince !== undefined && Date.now() - emptySince >= 1000) return;
      if (Date.now() > deadline) assert.fail(`cache fills still pending: ${listed.body.toString()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  test('Distribution behind Basic auth: a single image by tag and by digest, then served with the upstream stopped', async (t) => {
    if (!requireBinary(t, 'docker-registry', 'htpasswd', 'skopeo', 'umoci')) return;
    const image = await singlePlatformImage();
    const upstreamHost = distribution.url.replace('http://', '');
    await skopeo(['copy', '--all', '--dest-tls-verify=false', '--dest-creds', 'alice:secret', ...NO_RETRY, `oci:${image.layoutDir}:${image.tag}`, ref(upstreamHost, 'team/single', 'v1')]);
    await expectPulledIdentical(t, image, ref(cacheHost, 'dist/team/single', 'v1'));
    await expectPulledIdentical(t, image, ref(cacheHost, 'dist/team/single', image.root.digest));
    await fillsDone();
    await distribution.stop();
    await expectPulledIdentical(t, image, ref(cacheHost, 'dist/team/single', 'v1'));
  });

  test('this registry over TLS with its token service: a two-platform index by tag and by digest', async (t) => {
    if (!requireBinary(t, 'openssl', 'skopeo', 'umoci')) return;
    const image = await twoPlatformIndex();
    const upstreamHost = `127.0.0.1:${tokenUpstream.port}`;
    await skopeo(['copy', '--all', '--dest-tls-verify=false', '--dest-creds', 'bob:pw', ...NO_RETRY, `oci:${image.layoutDir}:${image.tag}`, ref(upstreamHost, 'mirrored/app', 'v1')]);
    await expectPulledIdentical(t, image, ref(cacheHost, 'angos/app', 'v1'));
    await expectPulledIdentical(t, image, ref(cacheHost, 'angos/app', image.root.digest));
    await fillsDone();
    await tokenUpstream.stop();
    await expectPulledIdentical(t, image, ref(cacheHost, 'angos/app', image.root.digest));
  });
});
