// OIDC authentication (docs/configuration.md, `[auth.oidc.<name>]`) against an issuer served on loopback by the
// test. Keys are real (jose), fetches are real HTTP, and the issuer counts what the registry asked.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { errorMessage, expectChallenge, expectError, expectStatus } from '../support/expect.ts';
import { request } from '../support/http.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { authAttempts, basicAuth } from './auth-fixtures.ts';
import { bearer, makeSigningKey, OidcIssuer, type SigningKey } from './oidc-issuer.ts';

// Only OIDC callers from provider `ci` with the expected subject and run number get in; the metrics stay open
// so the counters can be read anonymously.
const POLICY = `[global.access_policy]
default = "deny"
rules = [
  "request.action == 'metrics'",
  "identity.oidc != null && identity.oidc.provider_name == 'ci' && identity.username == null && identity.oidc.claims.sub == 'build' && identity.oidc.claims.run_number == 42",
]
`;

function providerToml(name: string, issuer: OidcIssuer, extra = ''): string {
  return `[auth.oidc.${name}]\nprovider = "generic"\nissuer = ${JSON.stringify(issuer.url)}\n${extra}\n`;
}

describe('an OIDC provider with audience, skew and a required claim', () => {
  let issuer: OidcIssuer;
  let server: RunningServer;
  let key1: SigningKey;
  const claims = { aud: 'reg', email: 'ci@example.com', run_number: 42 };

  before(async () => {
    issuer = await OidcIssuer.start();
    key1 = await makeSigningKey('k1');
    issuer.published = [key1];
    const provider = providerToml('ci', issuer, 'required_audience = "reg"\nclock_skew_tolerance = 60\nrequired_claims = ["email"]');
    server = await startServer({ extraToml: provider + POLICY });
  });
  after(async () => {
    await server?.stop();
    await issuer?.stop();
  });

  const catalog = (authorization?: string) =>
    request(server.url, '/v2/_catalog', { headers: authorization === undefined ? {} : { authorization } });

  it('a valid token authenticates as Bearer and as Basic with the provider name; the policy sees the claims', async () => {
    const token = await issuer.sign(key1, claims);
    expectStatus(await catalog(bearer(token)), 200);
    expectStatus(await catalog(basicAuth('ci', token)), 200);
    expectStatus(await catalog(`bEaReR ${token}`), 200);
    // Authenticated but refused by the policy (another subject, or the integer claim differs): 403, not 401.
    expectError(await catalog(bearer(await issuer.sign(key1, { ...claims, sub: 'other' }))), 403, 'DENIED');
    expectError(await catalog(bearer(await issuer.sign(key1, { ...claims, run_number: 43 }))), 403, 'DENIED');
  });

  it('Basic with the provider name and a junk password is 401, never a Basic-auth lookup', async () => {
    const response = await catalog(basicAuth('ci', 'junk'));
    expectChallenge(response);
    assert.equal(errorMessage(response), 'Invalid OIDC token');
  });

  it('exp and nbf are checked with the clock skew', async () => {
    const now = Math.floor(Date.now() / 1000);
    expectChallenge(await catalog(bearer(await issuer.sign(key1, { ...claims, exp: now - 120 }))));
    expectStatus(await catalog(bearer(await issuer.sign(key1, { ...claims, exp: now - 30 }))), 200);
    expectChallenge(await catalog(bearer(await issuer.sign(key1, { ...claims, nbf: now + 120 }))));
    expectStatus(await catalog(bearer(await issuer.sign(key1, { ...claims, nbf: now + 30 }))), 200);
  });

  it('iss must match and aud must contain the required audience', async () => {
    expectChallenge(await catalog(bearer(await issuer.sign(key1, { ...claims, iss: 'https://elsewhere.example' }))));
    expectStatus(await catalog(bearer(await issuer.sign(key1, { ...claims, aud: ['x', 'reg'] }))), 200);
    expectChallenge(await catalog(bearer(await issuer.sign(key1, { ...claims, aud: 'x' }))));
    const { aud: _dropped, ...withoutAudience } = claims;
    expectChallenge(await catalog(bearer(await issuer.sign(key1, withoutAudience))));
  });

  it('a required claim that is missing or null is 401', async () => {
    const { email: _dropped, ...withoutEmail } = claims;
    expectChallenge(await catalog(bearer(await issuer.sign(key1, withoutEmail))));
    expectChallenge(await catalog(bearer(await issuer.sign(key1, { ...claims, email: null }))));
  });

  it('a token signed by a key the issuer does not publish under that kid is 401', async () => {
    const impostor = await makeSigningKey('k1');
    expectChallenge(await catalog(bearer(await issuer.sign(impostor, claims))));
  });

  it('a rotated key forces exactly one refetch; a second unknown kid within 60 s fetches nothing', async () => {
    expectStatus(await catalog(bearer(await issuer.sign(key1, claims))), 200);
    const key2 = await makeSigningKey('k2');
    issuer.published = [key1, key2];
    const before = issuer.jwksFetches();
    expectStatus(await catalog(bearer(await issuer.sign(key2, claims))), 200);
    assert.equal(issuer.jwksFetches(), before + 1, 'one forced refetch');
    expectStatus(await catalog(bearer(await issuer.sign(key2, claims))), 200);
    assert.equal(issuer.jwksFetches(), before + 1, 'the refetched set is cached');
    const key3 = await makeSigningKey('k3');
    expectChallenge(await catalog(bearer(await issuer.sign(key3, claims))));
    assert.equal(issuer.jwksFetches(), before + 1, 'no second forced refetch within 60 s');
  });

  it('a bad token counts one failed oidc attempt per request and is never logged', async () => {
    const failed = await authAttempts(server.url, 'oidc', 'failed');
    const token = await issuer.sign(key1, { ...claims, aud: 'x', secret_marker: 'claim-value-not-logged' });
    expectChallenge(await catalog(bearer(token)));
    assert.equal(await authAttempts(server.url, 'oidc', 'failed'), failed + 1);
    const logs = JSON.stringify(server.logs);
    assert.ok(!logs.includes(token), 'the token is not logged');
    assert.ok(!logs.includes('claim-value-not-logged'), 'claims are not logged');
  });

  it('without the token service GET /token is 404 and challenges stay Basic', async () => {
    expectError(await request(server.url, '/token', { headers: { authorization: bearer(await issuer.sign(key1, claims)) } }), 404, 'NAME_UNKNOWN');
    expectChallenge(await catalog());
  });
});

describe('the algorithm allow-list is checked before any fetch', () => {
  let issuer: OidcIssuer;
  let server: RunningServer;

  before(async () => {
    issuer = await OidcIssuer.start();
    server = await startServer({ extraToml: providerToml('ci', issuer) });
  });
  after(async () => {
    await server?.stop();
    await issuer?.stop();
  });

  it('HS256 and ES256 tokens are 401 and the issuer receives no request; an RS256 one does fetch', async () => {
    const now = Math.floor(Date.now() / 1000);
    const hs = await new SignJWT({ iss: issuer.url, exp: now + 60 }).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(new Uint8Array(32));
    const es = await makeSigningKey('k1', 'ES256');
    issuer.published = [es];
    for (const token of [hs, await issuer.sign(es)]) {
      expectChallenge(await request(server.url, '/v2/', { headers: { authorization: bearer(token) } }));
    }
    assert.equal(issuer.total, 0, 'no discovery or JWKS request');
    const rs = await makeSigningKey('k1');
    issuer.published = [rs];
    expectStatus(await request(server.url, '/v2/', { headers: { authorization: bearer(await issuer.sign(rs)) } }), 200);
    assert.equal(issuer.requests.get('/.well-known/openid-configuration'), 1, 'keys are discovered from the issuer');
    assert.equal(issuer.jwksFetches(), 1);
  });
});

describe('discovery naming another issuer', () => {
  it('is 401 and not cached', async () => {
    const issuer = await OidcIssuer.start();
    const server = await startServer({ extraToml: providerToml('ci', issuer) });
    try {
      const key = await makeSigningKey('k1');
      issuer.published = [key];
      issuer.discoveryIssuer = 'https://impostor.example';
      expectChallenge(await request(server.url, '/v2/', { headers: { authorization: bearer(await issuer.sign(key)) } }));
      issuer.discoveryIssuer = undefined;
      expectStatus(await request(server.url, '/v2/', { headers: { authorization: bearer(await issuer.sign(key)) } }), 200);
      assert.equal(issuer.requests.get('/.well-known/openid-configuration'), 2, 'the refused document was not cached');
    } finally {
      await server.stop();
      await issuer.stop();
    }
  });
});

describe('two providers, one of them down', () => {
  let good: OidcIssuer;
  let down: OidcIssuer;
  let server: RunningServer;
  let goodKey: SigningKey;
  let downKey: SigningKey;

  before(async () => {
    [good, down] = await Promise.all([OidcIssuer.start(), OidcIssuer.start()]);
    [goodKey, downKey] = await Promise.all([makeSigningKey('g1'), makeSigningKey('d1')]);
    good.published = [goodKey];
    down.published = [downKey];
    down.jwksStatus = 500;
    // `a-down` sorts first, so it is tried first for every Bearer token.
    const providers = providerToml('a-down', down, `jwks_uri = "${down.url}/jwks"`) + providerToml('b-good', good);
    server = await startServer({ extraToml: providers });
  });
  after(async () => {
    await server?.stop();
    await good?.stop();
    await down?.stop();
  });

  const root = (token: string) => request(server.url, '/v2/', { headers: { authorization: bearer(token) } });

  it('a token only the second provider accepts authenticates despite the first failing', async () => {
    expectStatus(await root(await good.sign(goodKey)), 200);
  });

  it('a token neither accepts returns the first provider\'s failure: 503 PROVIDER_UNAVAILABLE, no challenge', async () => {
    const response = await root(await down.sign(downKey));
    expectError(response, 503, 'PROVIDER_UNAVAILABLE');
    assert.equal(response.headers['www-authenticate'], undefined);
  });

  it('the failed fetch is not cached: the next request refetches and succeeds once the issuer is back', async () => {
    const before = down.jwksFetches();
    expectError(await root(await down.sign(downKey)), 503, 'PROVIDER_UNAVAILABLE');
    assert.equal(down.jwksFetches(), before + 1);
    down.jwksStatus = 200;
    expectStatus(await root(await down.sign(downKey)), 200);
    assert.equal(down.jwksFetches(), before + 2);
  });

  it('an issuer that does not answer at all is 503 too', async () => {
    await down.stop();
    const server2 = await startServer({ extraToml: providerToml('ci', down, `jwks_uri = "${down.url}/jwks"`) });
    try {
      expectError(await request(server2.url, '/v2/', { headers: { authorization: bearer(await down.sign(downKey)) } }), 503, 'PROVIDER_UNAVAILABLE');
    } finally {
      await server2.stop();
    }
  });
});

describe('bearer_token_file', () => {
  let issuer: OidcIssuer;
  let keyHost: OidcIssuer;
  let dir: string;
  let tokenFile: string;

  before(async () => {
    [issuer, keyHost] = await Promise.all([OidcIssuer.start(), OidcIssuer.start()]);
    dir = await mkdtemp(join(tmpdir(), 'angos-oidc-bearer-'));
    tokenFile = join(dir, 'issuer-token');
  });
  after(async () => {
    await issuer?.stop();
    await keyHost?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('is re-read per fetch and sent only to the issuer origin', async () => {
    const key = await makeSigningKey('k1');
    issuer.published = [key];
    issuer.requiredAuthorization = 'Bearer first';
    await writeFile(tokenFile, 'first\n');
    const server = await startServer({ extraToml: providerToml('ci', issuer, `bearer_token_file = ${JSON.stringify(tokenFile)}\njwks_refresh_interval = 1`) });
    try {
      const root = async () => request(server.url, '/v2/', { headers: { authorization: bearer(await issuer.sign(key)) } });
      expectStatus(await root(), 200);
      assert.deepEqual(issuer.authorizations, ['Bearer first', 'Bearer first'], 'discovery and JWKS both carry the trimmed token');
      // A rotated file is used on the next fetch, without a restart; a new kid forces that fetch now.
      await writeFile(tokenFile, 'second');
      issuer.requiredAuthorization = 'Bearer second';
      const key2 = await makeSigningKey('k2');
      issuer.published = [key, key2];
      expectStatus(await request(server.url, '/v2/', { headers: { authorization: bearer(await issuer.sign(key2)) } }), 200);
      assert.equal(issuer.authorizations.at(-1), 'Bearer second');
    } finally {
      await server.stop();
    }
  });

  it('a JWKS on another origin never receives it', async () => {
    const key = await makeSigningKey('k1');
    keyHost.published = [key];
    await writeFile(tokenFile, 'first');
    const provider = providerToml('ci', issuer, `jwks_uri = "${keyHost.url}/jwks"\nbearer_token_file = ${JSON.stringify(tokenFile)}`);
    const server = await startServer({ extraToml: provider });
    try {
      const token = await new SignJWT({ iss: issuer.url, exp: Math.floor(Date.now() / 1000) + 60 }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(key.privateKey);
      expectStatus(await request(server.url, '/v2/', { headers: { authorization: bearer(token) } }), 200);
      assert.deepEqual(keyHost.authorizations, [null]);
    } finally {
      await server.stop();
    }
  });

  it('a file that becomes unreadable makes the fetches that need it fail closed: 503', async () => {
    const key = await makeSigningKey('k1');
    issuer.published = [key];
    issuer.requiredAuthorization = undefined;
    await writeFile(tokenFile, 'first');
    const server = await startServer({ extraToml: providerToml('ci', issuer, `bearer_token_file = ${JSON.stringify(tokenFile)}`) });
    try {
      await rm(tokenFile);
      const before = issuer.total;
      expectError(await request(server.url, '/v2/', { headers: { authorization: bearer(await issuer.sign(key)) } }), 503, 'PROVIDER_UNAVAILABLE');
      assert.equal(issuer.total, before, 'nothing was sent without the credential');
    } finally {
      await server.stop();
    }
  });

  it('an unreadable file stops the server at start-up', async () => {
    await assert.rejects(
      startServer({ extraToml: providerToml('ci', issuer, `bearer_token_file = ${JSON.stringify(join(dir, 'missing'))}`) }),
      /exited with 1 before listening/,
    );
  });
});
