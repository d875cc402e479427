// The registry token service (docs/configuration.md, `[auth.token_service]`; docs/api.md, "Operational endpoints")
// over plain HTTP, plus the Docker token dance driven by a real client (skopeo).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CompactSign, decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { requireBinary, runBinary } from '../support/binaries.ts';
import { BASIC_CHALLENGE, errorMessage, expectError, expectStatus } from '../support/expect.ts';
import { jsonBody, request, type HttpResponse } from '../support/http.ts';
import { singlePlatformImage } from '../support/images.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { authAttempts, basicAuth, identityToml } from './auth-fixtures.ts';
import { bearer, makeSigningKey, OidcIssuer, type SigningKey } from './oidc-issuer.ts';

const SECRET = Buffer.alloc(32, 7).toString('base64');

// Anyone may ask for a token (the credential presented decides what it carries); alice and the OIDC provider's
// `build` subject may do anything else; the metrics stay open for the counters.
const POLICY = `[global.access_policy]
default = "deny"
rules = [
  "request.action == 'get-token'",
  "request.action == 'metrics'",
  "identity.username == 'alice'",
  "identity.oidc != null && identity.oidc.claims.sub == 'build' && identity.oidc.claims.run == 42",
]
`;

interface TokenAnswer {
  token: string;
  expires_in: number;
}

function expectUnauthorized(response: HttpResponse, challenge: string): void {
  expectError(response, 401, 'UNAUTHORIZED');
  assert.equal(response.headers['www-authenticate'], challenge);
}

describe('the token service', () => {
  let server: RunningServer;
  let issuer: OidcIssuer;
  let bearerChallenge: string;
  let key: SigningKey;
  const alice = basicAuth('alice', 'hunter2');

  before(async () => {
    issuer = await OidcIssuer.start();
    key = await makeSigningKey('k1');
    issuer.published = [key];
    const identities = await identityToml('alice', 'alice', 'hunter2');
    const provider = `[auth.oidc.ci]\nissuer = ${JSON.stringify(issuer.url)}\n`;
    server = await startServer({ extraToml: `${identities}${provider}[auth.token_service]\nsecret_key = "${SECRET}"\n${POLICY}` });
    bearerChallenge = `Bearer realm="http://127.0.0.1:${server.port}/token",service="127.0.0.1:${server.port}"`;
  });
  after(async () => {
    await server?.stop();
    await issuer?.stop();
  });

  const get = (path: string, authorization?: string, headers: Record<string, string> = {}) =>
    request(server.url, path, { headers: authorization === undefined ? headers : { ...headers, authorization } });

  async function tokenFor(authorization?: string): Promise<TokenAnswer> {
    const response = await get('/token?service=x&scope=repository:a/b:pull', authorization);
    expectStatus(response, 200);
    return jsonBody(response) as TokenAnswer;
  }

  it('401 challenges point at /token with the request host; /token itself keeps Basic', async () => {
    expectUnauthorized(await get('/v2/'), bearerChallenge);
    expectUnauthorized(await get('/v2/_catalog', basicAuth('alice', 'wrong')), bearerChallenge);
    expectUnauthorized(await get('/v2/', undefined, { host: 'reg.example:5000' }), 'Bearer realm="http://reg.example:5000/token",service="reg.example:5000"');
    // An unusable Host cannot be advertised: the Basic form is the fallback.
    expectUnauthorized(await get('/v2/', undefined, { host: 'bad"host' }), BASIC_CHALLENGE);
    expectUnauthorized(await get('/token', basicAuth('alice', 'wrong')), BASIC_CHALLENGE);
  });

  it('GET /token with Basic: no-store JSON, HS256 angos+jwt, payload exactly exp/id/username', async () => {
    const response = await get('/token', alice);
    expectStatus(response, 200);
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.match(response.headers['content-type'] ?? '', /^application\/json/);
    const body = jsonBody(response) as TokenAnswer;
    assert.deepEqual(Object.keys(body).sort(), ['expires_in', 'token']);
    assert.equal(body.expires_in, 3600);
    assert.deepEqual(decodeProtectedHeader(body.token), { alg: 'HS256', typ: 'angos+jwt' });
    const payload = decodeJwt(body.token);
    assert.deepEqual(Object.keys(payload).sort(), ['exp', 'id', 'username']);
    assert.equal(payload.id, 'alice');
    assert.equal(payload.username, 'alice');
    const now = Date.now() / 1000;
    assert.ok(Math.abs((payload.exp ?? 0) - (now + 3600)) < 120, `exp ${payload.exp} is about an hour away`);
  });

  it('the token authenticates as the user; the count is a token success', async () => {
    const { token } = await tokenFor(alice);
    const before = await authAttempts(server.url, 'token', 'success');
    expectStatus(await get('/v2/_catalog', bearer(token)), 200);
    expectStatus(await get('/v2/_catalog', `bearer ${token}`), 200);
    assert.equal(await authAttempts(server.url, 'token', 'success'), before + 2);
  });

  it('a registry token cannot be exchanged for another: 401 with the Basic challenge', async () => {
    const { token } = await tokenFor(alice);
    const response = await get('/token', bearer(token));
    expectUnauthorized(response, BASIC_CHALLENGE);
    assert.equal(errorMessage(response), 'A registry token cannot be exchanged for another');
  });

  it('an anonymous caller the policy allows gets a token carrying no identity', async () => {
    const { token } = await tokenFor();
    assert.deepEqual(Object.keys(decodeJwt(token)), ['exp']);
    // It proves nothing: the policy refuses it like an anonymous caller, with the Bearer challenge.
    expectUnauthorized(await get('/v2/_catalog', bearer(token)), bearerChallenge);
  });

  it('tokens from another secret, expired beyond 60 s, or typ angos+jwt with another alg are 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const secret = Buffer.from(SECRET, 'base64');
    const mint = (payload: Record<string, unknown>, signingKey: Uint8Array = secret) =>
      new CompactSign(Buffer.from(JSON.stringify(payload))).setProtectedHeader({ alg: 'HS256', typ: 'angos+jwt' }).sign(signingKey);
    // The same minting accepted with the right key, so the refusals below are about what they vary.
    expectStatus(await get('/v2/_catalog', bearer(await mint({ exp: now + 60, id: 'alice', username: 'alice' }))), 200);
    expectStatus(await get('/v2/_catalog', bearer(await mint({ exp: now - 30, id: 'alice', username: 'alice' }))), 200);
    const ec = await generateKeyPair('ES256');
    const refused = [
      await mint({ exp: now + 60, id: 'alice', username: 'alice' }, Buffer.alloc(32, 8)),
      await mint({ exp: now - 120, id: 'alice', username: 'alice' }),
      await mint({ id: 'alice', username: 'alice' }),
      await new SignJWT({ exp: now + 60, id: 'alice', username: 'alice' }).setProtectedHeader({ alg: 'ES256', typ: 'angos+jwt' }).sign(ec.privateKey),
      await mint({ exp: now + 60, oidc: { provider_name: 'removed', claims: { sub: 'build', run: 42 } } }),
    ];
    for (const token of refused) {
      const response = await get('/v2/_catalog', bearer(token));
      expectUnauthorized(response, bearerChallenge);
      assert.equal(errorMessage(response), 'Invalid registry token');
    }
  });

  it('a JWT of another typ is not ours and reaches the OIDC provider', async () => {
    const before = issuer.jwksFetches();
    const token = await issuer.sign(key, { run: 42 });
    expectStatus(await get('/v2/_catalog', bearer(token)), 200);
    assert.equal(issuer.jwksFetches(), before + 1, 'the OIDC provider verified it');
  });

  it('a token minted from an OIDC login carries the provider and claims (integers stay integers)', async () => {
    const { token } = await tokenFor(bearer(await issuer.sign(key, { run: 42, ratio: 1.5 })));
    const payload = decodeJwt(token) as { oidc: { provider_name: string; provider_type: string; claims: Record<string, unknown> } };
    assert.deepEqual(Object.keys(payload).sort(), ['exp', 'oidc']);
    assert.equal(payload.oidc.provider_name, 'ci');
    assert.equal(payload.oidc.provider_type, 'Generic OIDC');
    assert.equal(payload.oidc.claims.run, 42);
    assert.equal(payload.oidc.claims.ratio, 1.5);
    assert.match(Buffer.from(token.split('.')[1]!, 'base64url').toString(), /"run":42[,}]/);
    // The issuer is not asked again: the policy decides on the frozen claims.
    const fetches = issuer.total;
    expectStatus(await get('/v2/_catalog', bearer(token)), 200);
    assert.equal(issuer.total, fetches);
  });

  it('skopeo copy --dest-creds does the Docker token dance: challenge, /token with Basic, retry with the Bearer', async (t) => {
    if (!requireBinary(t, 'skopeo', 'umoci')) return;
    const image = await singlePlatformImage();
    const destination = `docker://127.0.0.1:${server.port}/token/app:v1`;
    const common = ['copy', '--dest-tls-verify=false', '--retry-times', '0'];
    const before = await authAttempts(server.url, 'token', 'success');
    await assert.rejects(runBinary('skopeo', [...common, '--dest-creds', 'alice:wrong', `oci:${image.layoutDir}:${image.tag}`, destination]), /401|unauthorized|authentication required/i);
    await runBinary('skopeo', [...common, '--dest-creds', 'alice:hunter2', `oci:${image.layoutDir}:${image.tag}`, destination]);
    assert.ok((await authAttempts(server.url, 'token', 'success')) > before, 'skopeo authenticated with a registry token');
    const manifest = await get('/v2/token/app/manifests/v1', alice, { accept: image.root.mediaType });
    expectStatus(manifest, 200);
    assert.equal(manifest.headers['docker-content-digest'], image.root.digest);
  });
});

describe('a configured realm', () => {
  it('is advertised without userinfo, query or fragment, whatever the Host; ttl_secs sets expires_in', async () => {
    const server = await startServer({
      extraToml:
        `[auth.token_service]\nsecret_key = "${SECRET}"\nrealm = "https://user:pw@auth.example:8443/registry/token?x=1#f"\nttl_secs = 60\n` +
        `[global.access_policy]\ndefault = "deny"\nrules = ["request.action == 'get-token'"]\n`,
    });
    try {
      const challenge = 'Bearer realm="https://auth.example:8443/registry/token",service="auth.example:8443"';
      expectUnauthorized(await request(server.url, '/v2/'), challenge);
      expectUnauthorized(await request(server.url, '/v2/', { headers: { host: 'other.example' } }), challenge);
      const response = await request(server.url, '/token');
      expectStatus(response, 200);
      assert.equal((jsonBody(response) as TokenAnswer).expires_in, 60);
    } finally {
      await server.stop();
    }
  });
});
