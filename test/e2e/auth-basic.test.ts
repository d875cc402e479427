// Basic authentication (docs/configuration.md, `[auth.identity.<id>]`) with hashes made by `angos argon`, and
// denials: 401 anonymous, 403 authenticated (docs/api.md, "Request processing"); the auth_attempts_total metric.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireBinary, runBinary } from '../support/binaries.ts';
import { BASIC_CHALLENGE, errorMessage, expectChallenge, expectError, expectStatus } from '../support/expect.ts';
import { request } from '../support/http.ts';
import { singlePlatformImage } from '../support/images.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { authAttempts, basicAuth, identityToml } from './auth-fixtures.ts';

// Anonymous callers may only read the metrics; alice may do anything; bob (whose password contains colons) may
// list tags and nothing else, so he is authenticated but refused elsewhere. The API root is deliberately not
// anonymous: a client that gets 200 there concludes the registry needs no credentials and never sends them.
const POLICY = `[global.access_policy]
default = "deny"
rules = [
  "request.action == 'metrics'",
  "identity.username == 'alice'",
  "identity.id == 'bob-id' && request.action == 'list-tags'",
]
`;

describe('Basic authentication against [auth.identity] with hashes from angos argon', () => {
  let server: RunningServer;
  const alice = basicAuth('alice', 'hunter2');

  before(async () => {
    const identities = (await identityToml('alice', 'alice', 'hunter2')) + (await identityToml('bob-id', 'bob', 'p:a:ss'));
    server = await startServer({ extraToml: identities + POLICY });
  });
  after(async () => {
    await server?.stop();
  });

  const get = (path: string, authorization?: string) =>
    request(server.url, path, { headers: authorization === undefined ? {} : { authorization } });

  it('the right password is allowed where the policy requires a username', async () => {
    expectStatus(await get('/v2/_catalog', alice), 200);
  });

  it('no credentials: anonymous, the policy decides (401 with the challenge here, 200 on the metrics)', async () => {
    expectChallenge(await get('/v2/_catalog'));
    expectChallenge(await get('/v2/'));
    expectStatus(await get('/metrics'), 200);
  });

  it('a wrong password or an unknown user is 401 with the challenge, even where anonymous callers are allowed', async () => {
    for (const authorization of [basicAuth('alice', 'hunter3'), basicAuth('mallory', 'hunter2'), basicAuth('ALICE', 'hunter2')]) {
      for (const path of ['/metrics', '/v2/_catalog']) {
        const response = await get(path, authorization);
        expectChallenge(response);
        assert.equal(errorMessage(response), 'Invalid basic auth credentials');
      }
    }
  });

  it('an authenticated caller the policy refuses gets 403 DENIED without a challenge', async () => {
    const response = await get('/v2/_catalog', basicAuth('bob', 'p:a:ss'));
    expectError(response, 403, 'DENIED');
    assert.equal(response.headers['www-authenticate'], undefined);
  });

  it('identity.id is the table key and the password may contain colons', async () => {
    // list-tags is granted to bob by id: a missing repository answers 404, not a denial.
    expectError(await get('/v2/team/app/tags/list', basicAuth('bob', 'p:a:ss')), 404, 'NAME_UNKNOWN');
    expectChallenge(await get('/v2/team/app/tags/list', basicAuth('bob', 'p')));
  });

  it('the scheme is case-insensitive; malformed credentials are anonymous, not 401', async () => {
    expectStatus(await get('/v2/_catalog', basicAuth('alice', 'hunter2', 'bAsIc')), 200);
    for (const authorization of ['Basic !!!', 'Digest username="alice"', 'Bearer some.jwt.token', 'Basic']) {
      expectStatus(await get('/metrics', authorization), 200);
      expectChallenge(await get('/v2/_catalog', authorization));
    }
  });

  it('auth_attempts_total counts each Basic success and failure once; anonymous requests count nothing', async () => {
    const count = () => Promise.all([authAttempts(server.url, 'basic', 'success'), authAttempts(server.url, 'basic', 'failed')]);
    const [success, failed] = await count();
    expectStatus(await get('/v2/_catalog', alice), 200);
    expectChallenge(await get('/metrics', basicAuth('alice', 'wrong')));
    expectChallenge(await get('/v2/'));
    expectChallenge(await get('/v2/', 'Basic !!!'));
    assert.deepEqual(await count(), [success + 1, failed + 1]);
  });

  it('a failed login logs the known username but never the password', async () => {
    expectChallenge(await get('/v2/', basicAuth('alice', 'never-logged-password')));
    const text = JSON.stringify(server.logs);
    assert.ok(!text.includes('never-logged-password'), 'the password is not logged');
    assert.ok(!text.includes('hunter2'), 'no password is logged');
    assert.ok(server.logs.some((entry) => JSON.stringify(entry).includes('basic authentication failed')), 'the failure is logged');
  });

  it('skopeo pushes with --dest-creds and is refused without them', async (t) => {
    if (!requireBinary(t, 'skopeo', 'umoci')) return;
    const image = await singlePlatformImage();
    const destination = `docker://127.0.0.1:${server.port}/auth/app:v1`;
    const source = `oci:${image.layoutDir}:${image.tag}`;
    const common = ['copy', '--dest-tls-verify=false', '--retry-times', '0'];
    await assert.rejects(runBinary('skopeo', [...common, source, destination]), /401|unauthorized|authentication required/i);
    await assert.rejects(runBinary('skopeo', [...common, '--dest-creds', 'alice:wrong', source, destination]), /401|unauthorized|authentication required/i);
    await runBinary('skopeo', [...common, '--dest-creds', 'alice:hunter2', source, destination]);

    const manifest = await request(server.url, '/v2/auth/app/manifests/v1', { headers: { authorization: alice, accept: image.root.mediaType } });
    expectStatus(manifest, 200);
    assert.equal(manifest.headers['docker-content-digest'], image.root.digest);
    // Pulling back with credentials proves the whole image is readable by the pusher.
    const outDir = await mkdtemp(join(tmpdir(), 'angos-auth-pull-'));
    t.after(() => rm(outDir, { recursive: true, force: true }));
    await runBinary('skopeo', ['copy', '--src-tls-verify=false', '--retry-times', '0', '--src-creds', 'alice:hunter2', destination, `oci:${outDir}:back`]);
  });
});

describe('a Basic credential when no identity is configured', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  it('is 401 with the challenge even under an allow-all policy; no credentials are allowed', async () => {
    const response = await request(server.url, '/v2/', { headers: { authorization: basicAuth('alice', 'hunter2') } });
    expectChallenge(response);
    assert.equal(response.headers['www-authenticate'], BASIC_CHALLENGE);
    expectStatus(await request(server.url, '/v2/'), 200);
  });
});
