// A hostile caller tries to reach what the access policy keeps from it, on one real server with a default-deny
// global policy, Basic identities (Argon2), a repository policy, the token service, an OIDC provider served by a
// local issuer, and a pull-through repository (`namespace = "docker.io"`, so its pushes are refused).
// docs/configuration.md (`[global.access_policy]`, `[auth.*]`, `[repository."<name>"]`) says what each must get:
// a refusal is 401 for an anonymous caller or a presented credential that is wrong, 403 for an authenticated one;
// requests that match no route are refused before authentication (docs/api.md, "Routing"), which reveals nothing
// either. Anything else where a refusal is due is a bypass (test/support/access-attempts.ts): a success, a refusal
// with the wrong status, an answer only a request the policy let through could give (a domain 404 such as
// MANIFEST_UNKNOWN), a write that lands, or a key fetched from where a token's header points.
import assert from 'node:assert/strict';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { after, before, describe, it, type TestContext } from 'node:test';
import { hashPassword } from '../../src/cli/argon.ts';
import { ANONYMOUS_REFUSAL, AttemptLedger, AUTHENTICATED_REFUSAL, describeAnswer, UNROUTED, type Accepted } from '../support/access-attempts.ts';
import { jsonBody, request, type HttpResponse, type RequestOptions } from '../support/http.ts';
import { flippedSignature, payloadOf, segment, segmentsOf, signToken, withHeader, withPayload } from '../support/jwt-forgery.ts';
import { content, descriptorOf, imageIndex, imageManifest, manifestDescriptor, OCI_CONFIG, OCI_LAYER, type Content, type Manifest } from '../support/oci.ts';
import { rawExchange } from '../support/raw-exchange.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { basicAuth } from '../e2e/auth-fixtures.ts';
import { bearer, makeSigningKey, OidcIssuer, type SigningKey } from '../e2e/oidc-issuer.ts';

const SECRET = Buffer.alloc(32, 0x5a);
const AUDIENCE = 'angos';
const PASSWORDS = { alice: 'alice-password', bob: 'bob-password' };
const PUSH = { 'content-type': 'application/vnd.oci.image.manifest.v1+json' };

// Who may do what. alice: everything under allowed/ and hub/library/ (so the pull-through guard, not the
// global policy, is what refuses her pushes there), reads of secret/ (which the repository policy then refuses).
// bob: everything under denied/, secret/ and public/. The OIDC subject `build`: everything under ci/.
// Anonymous: reads of public/. Everyone: healthz and the token exchange.
const POLICY = `
[global.access_policy]
default = "deny"
rules = [
  "request.action in ['healthz', 'get-token']",
  "identity.username == 'alice' && has(request.namespace) && (request.namespace.startsWith('allowed/') || request.namespace.startsWith('hub/library/'))",
  "identity.username == 'alice' && has(request.namespace) && request.namespace.startsWith('secret/') && request.action in ['get-manifest', 'get-blob', 'list-tags']",
  "identity.username == 'bob' && has(request.namespace) && (request.namespace.startsWith('denied/') || request.namespace.startsWith('secret/') || request.namespace.startsWith('public/'))",
  "identity.oidc != null && identity.oidc.claims.sub == 'build' && has(request.namespace) && request.namespace.startsWith('ci/')",
  "identity.username == null && identity.oidc == null && has(request.namespace) && request.namespace.startsWith('public/') && request.action in ['get-manifest', 'get-blob', 'list-tags']",
]

[repository."secret".access_policy]
default = "deny"
rules = ["identity.username == 'bob'"]

[repository."hub"]
namespace = "docker.io"

[[repository."hub".upstream]]
url = "https://registry-1.docker.io"
`;

interface Seeded {
  deniedBlob: Content;
  deniedManifest: Manifest;
  secretBlob: Content;
  allowedBlob: Content;
  /** A session bob opened in denied/app. */
  bobSession: string;
  /** Markers of content alice must never receive. */
  forbidden: Buffer[];
}

describe('authentication and authorization bypass attempts', () => {
  let server: RunningServer;
  let issuer: OidcIssuer;
  let attacker: OidcIssuer;
  let key: SigningKey;
  let ecKey: SigningKey;
  let attackerKey: SigningKey;
  let seeded: Seeded;
  let aliceToken: string;
  let anonymousToken: string;
  const ledger = new AttemptLedger();
  const alice = basicAuth('alice', PASSWORDS.alice);
  const bob = basicAuth('bob', PASSWORDS.bob);

  const now = () => Math.floor(Date.now() / 1000);
  const claims = (extra: Record<string, unknown> = {}) => ({ iss: issuer.url, sub: 'build', aud: AUDIENCE, exp: now() + 600, ...extra });
  /** `authorization` as an array sends one header line per value. */
  const send = (method: string, path: string, authorization?: string | string[], options: RequestOptions = {}) => {
    const credentials: Record<string, string | string[]> = authorization === undefined ? {} : { authorization };
    return request(server.url, path, { ...options, method, headers: { ...options.headers, ...credentials } });
  };

  const attempt = (...args: Parameters<AttemptLedger['attempt']>) => ledger.attempt(...args);

  /** A control: a request the policy allows, so the refusals around it are about what they vary. */
  async function allowed(label: string, status: number, exchange: () => Promise<HttpResponse>): Promise<void> {
    const response = await exchange();
    assert.equal(response.status, status, `control '${label}': ${describeAnswer(response)}`);
  }

  async function seed(): Promise<Seeded> {
    const deniedBlob = content('bypass: a layer only bob may read');
    const secretBlob = content('bypass: a layer of the secret repository');
    const allowedBlob = content('bypass: a layer alice pushed');
    const publicBlob = content('bypass: a layer anyone may read');
    const config = content('{"bypass":"config"}');
    const push = async (authorization: string, name: string, blob: Content) => {
      const response = await send('POST', `/v2/${name}/blobs/uploads/?digest=${blob.digest}`, authorization, { body: blob.bytes });
      assert.equal(response.status, 201, `seeding ${name}: ${describeAnswer(response)}`);
    };
    const pushManifest = async (authorization: string, name: string, reference: string, manifest: Manifest) => {
      const response = await send('PUT', `/v2/${name}/manifests/${reference}`, authorization, { headers: { 'content-type': manifest.mediaType }, body: manifest.bytes });
      assert.equal(response.status, 201, `seeding ${name}:${reference}: ${describeAnswer(response)}`);
    };
    const image = (layer: Content) => imageManifest({ config: descriptorOf(config, OCI_CONFIG), layers: [descriptorOf(layer, OCI_LAYER)], annotations: { layer: layer.digest } });
    for (const [who, name, blob] of [[bob, 'denied/app', deniedBlob], [bob, 'secret/app', secretBlob], [bob, 'public/app', publicBlob], [alice, 'allowed/app', allowedBlob]] as const) {
      await push(who, name, config);
      await push(who, name, blob);
    }
    const deniedManifest = image(deniedBlob);
    await pushManifest(bob, 'denied/app', 'v1', deniedManifest);
    await pushManifest(bob, 'secret/app', 'v1', image(secretBlob));
    await pushManifest(bob, 'public/app', 'v1', imageManifest({ config: descriptorOf(config, OCI_CONFIG), layers: [descriptorOf(publicBlob, OCI_LAYER)] }));
    await pushManifest(alice, 'allowed/app', 'v1', image(allowedBlob));
    const session = await send('POST', '/v2/denied/app/blobs/uploads/', bob);
    assert.equal(session.status, 202);
    const bobSession = String(session.headers.location).split('/').at(-1) ?? '';
    return { deniedBlob, deniedManifest, secretBlob, allowedBlob, bobSession, forbidden: [deniedBlob.bytes, secretBlob.bytes, deniedManifest.bytes] };
  }

  before(async () => {
    [issuer, attacker] = await Promise.all([OidcIssuer.start(), OidcIssuer.start()]);
    [key, ecKey, attackerKey] = await Promise.all([makeSigningKey('k1'), makeSigningKey('e1', 'ES256'), makeSigningKey('k1')]);
    issuer.published = [key, ecKey];
    attacker.published = [attackerKey];
    const identities = await Promise.all(
      Object.entries(PASSWORDS).map(async ([name, password]) => `[auth.identity.${name}]\nusername = "${name}"\npassword = "${await hashPassword(password)}"\n`),
    );
    const provider = `[auth.oidc.ci]\nissuer = ${JSON.stringify(issuer.url)}\nrequired_audience = "${AUDIENCE}"\n`;
    const tokenService = `[auth.token_service]\nsecret_key = "${SECRET.toString('base64')}"\n`;
    server = await startServer({ extraToml: `${identities.join('')}${provider}${tokenService}${POLICY}` });
    seeded = await seed();
    ledger.forbid(seeded.forbidden);
    aliceToken = (jsonBody(await send('GET', '/token', alice)) as { token: string }).token;
    anonymousToken = (jsonBody(await send('GET', '/token')) as { token: string }).token;
  });

  after(async () => {
    await server?.stop();
    await issuer?.stop();
    await attacker?.stop();
  });

  it('the controls pass: each identity reaches what the policy grants it', async () => {
    await allowed('alice reads allowed/app', 200, () => send('GET', '/v2/allowed/app/manifests/v1', alice));
    await allowed('bob reads denied/app', 200, () => send('GET', '/v2/denied/app/manifests/v1', bob));
    await allowed('anonymous reads public/app', 200, () => send('GET', '/v2/public/app/manifests/v1'));
    await allowed('the OIDC subject lists ci/app', 404, () => send('GET', '/v2/ci/app/tags/list', bearer(signToken({ alg: 'RS256', kid: 'k1' }, claims(), 'RS256', key.privateKey))));
    await allowed('alice reads allowed/app with her registry token', 200, () => send('GET', '/v2/allowed/app/manifests/v1', bearer(aliceToken)));
    await allowed('alice reads hub/library/x after the ns rewrite', 404, () => send('GET', '/v2/library/x/manifests/v1?ns=docker.io', alice));
  });

  it('path and encoding tricks never reach denied/app', async () => {
    const { deniedBlob } = seeded;
    const manifestTricks = [
      '/v2/allowed/../denied/app/manifests/v1',
      '/v2/allowed/app/../../denied/app/manifests/v1',
      '/v2/allowed/%2e%2e/denied/app/manifests/v1',
      '/v2/allowed/%2E%2E/denied/app/manifests/v1',
      '/v2/allowed%2F..%2Fdenied%2Fapp/manifests/v1',
      '/v2/allowed/app%2F..%2F..%2Fdenied%2Fapp/manifests/v1',
      '/v2/denied%2Fapp/manifests/v1',
      '/v2/denied%2fapp/manifests/v1',
      '/v2//denied/app/manifests/v1',
      '/v2/allowed//denied/app/manifests/v1',
      '/v2/allowed/app//../../denied/app/manifests/v1',
      '//v2/denied/app/manifests/v1',
      '/v2/Denied/app/manifests/v1',
      '/v2/DENIED/APP/manifests/v1',
      '/v2/denied./app/manifests/v1',
      '/v2/denied/app./manifests/v1',
      '/v2/denied/./app/manifests/v1',
      '/v2/./denied/app/manifests/v1',
      '/v2/denied/app/manifests/v1/',
      '/v2/denied/app/manifests/./v1',
      '/v2/denied/app/manifests/../manifests/v1',
      '/v2/allowed/app/manifests/../../../denied/app/manifests/v1',
      '/v2/allowed/app/manifests/v1/../../../../denied/app/manifests/v1',
      '/v2/denied\\app/manifests/v1',
      '/v2/denied%5Capp/manifests/v1',
      '/v2/denied/app%00/manifests/v1',
      '/v2/denied/app;x=y/manifests/v1',
      '/v2/d%65nied/app/manifests/v1',
      '/v2/%64enied/app/manifests/v1',
      '/v2/d%D0%B5nied/app/manifests/v1',
      '/v2/denied/app/manifests/v1#/../../../allowed/app/manifests/v1',
      '/v2/denied/app/manifests/v1?/../../allowed/app',
      '/v2/allowedx/../denied/app/manifests/v1',
      '/v2/denied/app/manifests/v1',
    ];
    const blobTricks = [
      `/v2/allowed/app/blobs/../../../denied/app/blobs/${deniedBlob.digest}`,
      `/v2/allowed/app/blobs/uploads/../../../../denied/app/blobs/${deniedBlob.digest}`,
      `/v2/allowed/%2e%2e/denied/app/blobs/${deniedBlob.digest}`,
      `/v2/denied/app/blobs/${deniedBlob.digest}`,
      `/v2/denied/app/tags/list`,
      `/v2/denied/app/_angos/revisions/list`,
      `/v2/denied/app/_angos/uploads/list`,
      `/v2/allowed/app/_angos/../../denied/app/_angos/revisions/list`,
      `/v2/secret/app/manifests/v1`,
      `/v2/secret/app/blobs/${seeded.secretBlob.digest}`,
      `/v2/secret/../secret/app/manifests/v1`,
      '/v2/allowedx/app/manifests/v1',
      '/v2/secret/manifests/v1',
    ];
    for (const [who, authorization, refusal] of [['anonymous', undefined, ANONYMOUS_REFUSAL], ['alice', alice, AUTHENTICATED_REFUSAL]] as const) {
      for (const path of [...manifestTricks, ...blobTricks]) {
        await attempt('path', `${who} GET ${path}`, [...refusal, ...UNROUTED], () => send('GET', path, authorization));
      }
      for (const path of manifestTricks.slice(0, 12)) {
        const manifest = imageManifest({ annotations: { planted: path } });
        await attempt('path', `${who} PUT ${path}`, [...refusal, ...UNROUTED], () => send('PUT', path.replace(/\/v1$/, '/planted'), authorization, { headers: PUSH, body: manifest.bytes }));
        await attempt('path', `${who} DELETE ${path}`, [...refusal, ...UNROUTED], () => send('DELETE', path, authorization));
      }
      // The absolute form of the request target: not a /v2/ path, so a UI request the policy refuses.
      await attempt('path', `${who} GET http://127.0.0.1/v2/denied/app/manifests/v1`, [...refusal, ...UNROUTED], async () => {
        const answer = await rawExchange(server.url, `GET http://127.0.0.1/v2/denied/app/manifests/v1 HTTP/1.1\r\nHost: x\r\n${authorization === undefined ? '' : `Authorization: ${authorization}\r\n`}Connection: close\r\n\r\n`);
        return answer.status === undefined ? undefined : { status: answer.status, headers: {}, body: Buffer.from(answer.head.slice(answer.head.indexOf('\r\n\r\n') + 4)) };
      });
    }
    // Names that are really alice's own, where a marker as a name component must not be read as the other name.
    await attempt('path', 'alice GET the denied blob through allowed/app/manifests/x/blobs/…', ['404 BLOB_UNKNOWN'], () => send('GET', `/v2/allowed/app/manifests/x/blobs/${deniedBlob.digest}`, alice));
    await attempt('path', 'alice GET allowed/denied/app/manifests/v1', ['404 MANIFEST_UNKNOWN'], () => send('GET', '/v2/allowed/denied/app/manifests/v1', alice));

    const tags = jsonBody(await send('GET', '/v2/denied/app/tags/list', bob)) as { tags: string[] };
    ledger.count('path');
    if (JSON.stringify(tags.tags) !== '["v1"]') ledger.bypass('path', `denied/app's tags changed: ${JSON.stringify(tags.tags)}`);
  });

  it('ns rewrites into a namespace the caller may not read are judged on the rewritten name', async () => {
    const { allowedBlob } = seeded;
    const cases: Array<[string, string, string | undefined, Accepted]> = [
      ['anonymous', '/v2/public/app/manifests/v1?ns=docker.io', undefined, ANONYMOUS_REFUSAL],
      ['anonymous', '/v2/public/app/manifests/v1?ns=DOCKER.IO', undefined, ANONYMOUS_REFUSAL],
      ['anonymous', '/v2/public/app/tags/list?ns=docker.io', undefined, ANONYMOUS_REFUSAL],
      ['anonymous', `/v2/public/app/blobs/${seeded.deniedBlob.digest}?ns=docker.io`, undefined, ANONYMOUS_REFUSAL],
      ['alice', '/v2/allowed/app/manifests/v1?ns=docker.io', alice, AUTHENTICATED_REFUSAL],
      ['alice', '/v2/allowed/app/manifests/v1?ns=Docker.Io', alice, AUTHENTICATED_REFUSAL],
      ['alice', `/v2/allowed/app/blobs/${allowedBlob.digest}?ns=docker.io`, alice, AUTHENTICATED_REFUSAL],
      ['alice', '/v2/allowed/app/tags/list?ns=docker.io', alice, AUTHENTICATED_REFUSAL],
      ['alice', `/v2/allowed/app/referrers/${allowedBlob.digest}?ns=docker.io`, alice, AUTHENTICATED_REFUSAL],
      ['alice', '/v2/denied/app/manifests/v1?ns=docker.io', alice, AUTHENTICATED_REFUSAL],
      ['alice', '/v2/allowed/app/manifests/v1?ns=docker.io&ns=docker.io', alice, ['404 NAME_UNKNOWN']],
      ['alice', '/v2/allowed/app/manifests/v1?ns=docker.io&ns=', alice, ['404 NAME_UNKNOWN']],
      ['bob', '/v2/denied/app/manifests/v1?ns=docker.io', bob, AUTHENTICATED_REFUSAL],
      // Pushes ignore ns: library/x is judged as itself, and refused.
      ['alice', 'PUT /v2/library/x/manifests/v1?ns=docker.io', alice, AUTHENTICATED_REFUSAL],
      ['alice', 'POST /v2/library/x/blobs/uploads/?ns=docker.io', alice, AUTHENTICATED_REFUSAL],
    ];
    for (const [who, target, authorization, accepted] of cases) {
      const [method, path] = target.startsWith('/') ? ['GET', target] : (target.split(' ') as [string, string]);
      const options = method === 'PUT' ? { headers: PUSH, body: imageManifest().bytes } : {};
      await attempt('ns', `${who} ${method} ${path}`, accepted, () => send(method, path, authorization, options));
    }
  });

  it('mounts from a namespace the caller cannot read fall back to a session, and the blob stays unreadable', async () => {
    const { deniedBlob, secretBlob } = seeded;
    const mounts: Array<[string, Content]> = [
      [`?mount=${deniedBlob.digest}&from=denied/app`, deniedBlob],
      [`?mount=${deniedBlob.digest}`, deniedBlob],
      [`?mount=${secretBlob.digest}&from=secret/app`, secretBlob],
      [`?mount=${secretBlob.digest}`, secretBlob],
      [`?mount=${deniedBlob.digest}&from=hub/library/x`, deniedBlob],
      [`?mount=${deniedBlob.digest}&from=allowed/app`, deniedBlob],
    ];
    for (const [query, blob] of mounts) {
      await attempt('mount', `alice POST allowed/app/blobs/uploads/${query}`, ['202'], () => send('POST', `/v2/allowed/app/blobs/uploads/${query}`, alice));
      await attempt('mount', `alice GET allowed/app/blobs/${blob.digest} after ${query}`, ['404 BLOB_UNKNOWN'], () => send('GET', `/v2/allowed/app/blobs/${blob.digest}`, alice));
    }
    await attempt('mount', 'alice mounts her blob into denied/app', AUTHENTICATED_REFUSAL, () => send('POST', `/v2/denied/app/blobs/uploads/?mount=${seeded.allowedBlob.digest}&from=allowed/app`, alice));
    await attempt('mount', 'anonymous mounts into public/app', ANONYMOUS_REFUSAL, () => send('POST', `/v2/public/app/blobs/uploads/?mount=${deniedBlob.digest}&from=denied/app`));
    await attempt('mount', 'alice mounts from allowed/../denied/app', ['400 UNSUPPORTED'], () => send('POST', `/v2/allowed/app/blobs/uploads/?mount=${deniedBlob.digest}&from=allowed/../denied/app`, alice));

    // A manifest of alice's that names bob's blob and manifest: accepted, but what it names stays unreadable.
    const laundering = imageManifest({ layers: [descriptorOf(deniedBlob, OCI_LAYER)] });
    await attempt('mount', 'alice pushes a manifest naming the denied blob', ['201'], () => send('PUT', '/v2/allowed/app/manifests/launder', alice, { headers: PUSH, body: laundering.bytes }));
    await attempt('mount', 'alice GETs the denied blob through that manifest', ['404 BLOB_UNKNOWN'], () => send('GET', `/v2/allowed/app/blobs/${deniedBlob.digest}`, alice));
    const index = imageIndex({ manifests: [manifestDescriptor(seeded.deniedManifest)] });
    await attempt('mount', 'alice pushes an index naming the denied manifest', ['201'], () => send('PUT', '/v2/allowed/app/manifests/launder-index', alice, { headers: { 'content-type': index.mediaType }, body: index.bytes }));
    await attempt('mount', 'alice GETs the denied manifest through that index', ['404 MANIFEST_UNKNOWN'], () => send('GET', `/v2/allowed/app/manifests/${seeded.deniedManifest.digest}`, alice));

    // bob's upload session, driven through alice's namespace: unknown there, and still bob's afterwards.
    const session = seeded.bobSession;
    await attempt('mount', "alice PATCHes bob's session through allowed/app", ['404 BLOB_UPLOAD_UNKNOWN'], () => send('PATCH', `/v2/allowed/app/blobs/uploads/${session}`, alice, { body: 'hijack' }));
    await attempt('mount', "alice GETs bob's session through allowed/app", ['404 BLOB_UPLOAD_UNKNOWN'], () => send('GET', `/v2/allowed/app/blobs/uploads/${session}`, alice));
    await attempt('mount', "alice DELETEs bob's session through allowed/app", ['204'], () => send('DELETE', `/v2/allowed/app/blobs/uploads/${session}`, alice));
    await attempt('mount', "alice PATCHes bob's session in denied/app", AUTHENTICATED_REFUSAL, () => send('PATCH', `/v2/denied/app/blobs/uploads/${session}`, alice, { body: 'hijack' }));
    await attempt('mount', "bob's session survives alice's requests, empty", ['204'], async () => {
      const status = await send('GET', `/v2/denied/app/blobs/uploads/${session}`, bob);
      return status.headers.range === '0-0' ? status : { ...status, status: 299 };
    });
  });

  it('JWT algorithm confusion is refused before any key is trusted', async () => {
    const publicPem = createPublicKey({ key: key.jwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const forged: Array<[string, string]> = [
      ['alg none, empty signature', `${segment({ alg: 'none', kid: 'k1' })}.${segment(claims())}.`],
      ['alg none, junk signature', `${segment({ alg: 'none', kid: 'k1' })}.${segment(claims())}.${segment('sig')}`],
      ['alg None', `${segment({ alg: 'None', kid: 'k1' })}.${segment(claims())}.`],
      ['alg NONE', `${segment({ alg: 'NONE', typ: 'JWT' })}.${segment(claims())}.`],
      ['alg none as a registry token', `${segment({ alg: 'none', typ: 'angos+jwt' })}.${segment({ exp: now() + 600, id: 'bob', username: 'bob' })}.`],
      ['HS256 keyed with the provider PEM', signToken({ alg: 'HS256', kid: 'k1' }, claims(), 'HS256', publicPem)],
      ['HS256 keyed with the provider JWK', signToken({ alg: 'HS256', kid: 'k1' }, claims(), 'HS256', JSON.stringify(key.jwk))],
      ['HS256 keyed with the modulus', signToken({ alg: 'HS256', kid: 'k1' }, claims(), 'HS256', Buffer.from(String(key.jwk.n), 'base64url'))],
      ['HS256 keyed with the published oct key', signToken({ alg: 'HS256', kid: 'symmetric' }, claims(), 'HS256', Buffer.from('AAAA', 'base64url'))],
      ['HS256 angos+jwt keyed with the provider PEM', signToken({ alg: 'HS256', typ: 'angos+jwt' }, { exp: now() + 600, id: 'bob', username: 'bob' }, 'HS256', publicPem)],
      ['PS256 with the real key (unlisted)', signToken({ alg: 'PS256', kid: 'k1' }, claims(), 'PS256', key.privateKey)],
      ['RS512 with the real key (unlisted)', signToken({ alg: 'RS512', kid: 'k1' }, claims(), 'RS512', key.privateKey)],
      ['ES256 with the published EC key (unlisted)', signToken({ alg: 'ES256', kid: 'e1' }, claims(), 'ES256', ecKey.privateKey)],
      ['alg rs256', signToken({ alg: 'rs256', kid: 'k1' }, claims(), 'RS256', key.privateKey)],
      ['alg as an array', signToken({ alg: ['RS256'], kid: 'k1' }, claims(), 'RS256', key.privateKey)],
      ['no alg', signToken({ kid: 'k1' }, claims(), 'RS256', key.privateKey)],
      ['kid of the oct key', signToken({ alg: 'RS256', kid: 'symmetric' }, claims(), 'RS256', key.privateKey)],
      ['kid as a number', signToken({ alg: 'RS256', kid: 1 }, claims(), 'RS256', key.privateKey)],
      ['kid traversal', signToken({ alg: 'RS256', kid: '../../../../etc/passwd' }, claims(), 'RS256', key.privateKey)],
      ['an unknown critical extension, validly signed', signToken({ alg: 'RS256', kid: 'k1', crit: ['exp-ext'], 'exp-ext': 1 }, claims(), 'RS256', key.privateKey)],
    ];
    for (const [label, token] of forged) {
      await attempt('jwt-alg', `${label} → ci/app`, ANONYMOUS_REFUSAL, () => send('GET', '/v2/ci/app/tags/list', bearer(token)));
    }
  });

  it('tampered, expired, not-yet-valid, wrong-audience and wrong-issuer OIDC tokens are 401', async () => {
    const valid = signToken({ alg: 'RS256', kid: 'k1' }, claims(), 'RS256', key.privateKey);
    const sign = (extra: Record<string, unknown>) => signToken({ alg: 'RS256', kid: 'k1' }, claims(extra), 'RS256', key.privateKey);
    const { aud: _aud, ...withoutAudience } = claims();
    const { exp: _exp, ...withoutExpiry } = claims();
    const [header, payload] = segmentsOf(valid);
    const forged: Array<[string, string]> = [
      ['payload edited (sub)', withPayload(valid, { ...payloadOf(valid), sub: 'admin' })],
      ['payload edited (exp)', withPayload(valid, { ...payloadOf(valid), exp: now() + 999_999 })],
      ['header edited (kid)', withHeader(valid, { alg: 'RS256', kid: 'e1' })],
      ['signature bit flipped', flippedSignature(valid)],
      ['signature removed', `${header}.${payload}.`],
      ['two segments', `${header}.${payload}`],
      ['four segments', `${valid}.${segment('x')}`],
      ['expired an hour ago', sign({ exp: now() - 3600 })],
      ['expiry as a string', sign({ exp: String(now() + 600) })],
      ['no expiry', signToken({ alg: 'RS256', kid: 'k1' }, withoutExpiry, 'RS256', key.privateKey)],
      ['not valid for an hour', sign({ nbf: now() + 3600 })],
      ['another audience', sign({ aud: 'other' })],
      ['audiences without ours', sign({ aud: ['other', 'angos2'] })],
      ['audience prefix', sign({ aud: 'angos-extra' })],
      ['no audience', signToken({ alg: 'RS256', kid: 'k1' }, withoutAudience, 'RS256', key.privateKey)],
      ['another issuer', sign({ iss: 'https://issuer.example' })],
      ['issuer with a trailing slash', sign({ iss: `${issuer.url}/` })],
      ["the attacker's issuer", sign({ iss: attacker.url })],
      ['no issuer', sign({ iss: undefined })],
      ['signed by an unpublished key with a published kid', signToken({ alg: 'RS256', kid: 'k1' }, claims(), 'RS256', attackerKey.privateKey)],
    ];
    for (const [label, token] of forged) {
      await attempt('oidc-claims', `Bearer ${label}`, ANONYMOUS_REFUSAL, () => send('GET', '/v2/ci/app/tags/list', bearer(token)));
    }
    await attempt('oidc-claims', 'Basic ci:<tampered token>', ANONYMOUS_REFUSAL, () => send('GET', '/v2/ci/app/tags/list', basicAuth('ci', withPayload(valid, { ...payloadOf(valid), sub: 'admin' }))));
    await attempt('oidc-claims', 'Basic ci:<alice password>', ANONYMOUS_REFUSAL, () => send('GET', '/v2/ci/app/tags/list', basicAuth('ci', PASSWORDS.alice)));
    // A valid token of another subject authenticates and is refused by the policy: 403, not 401.
    await attempt('oidc-claims', 'a valid token of another subject', AUTHENTICATED_REFUSAL, () => send('GET', '/v2/ci/app/tags/list', bearer(sign({ sub: 'intruder' }))));
    await attempt('oidc-claims', 'the valid token on denied/app', AUTHENTICATED_REFUSAL, () => send('GET', '/v2/denied/app/manifests/v1', bearer(valid)));
  });

  it("jku, jwk and x5u in a token header are ignored: only the provider's JWKS counts", async () => {
    const attackerJwk = attackerKey.jwk;
    const headers: Array<[string, Record<string, unknown>]> = [
      ['jwk', { alg: 'RS256', kid: 'k1', jwk: attackerJwk }],
      ['jwk with its own kid', { alg: 'RS256', kid: 'attacker', jwk: { ...attackerJwk, kid: 'attacker' } }],
      ['jwk without kid', { alg: 'RS256', jwk: attackerJwk }],
      ['jku', { alg: 'RS256', kid: 'k1', jku: `${attacker.url}/jwks` }],
      ['jku with an unknown kid', { alg: 'RS256', kid: 'attacker', jku: `${attacker.url}/jwks` }],
      ['x5u', { alg: 'RS256', kid: 'k1', x5u: `${attacker.url}/cert.pem` }],
      ['x5u with an unknown kid', { alg: 'RS256', kid: 'attacker', x5u: `${attacker.url}/cert.pem` }],
      ['jku, jwk and x5u together', { alg: 'RS256', kid: 'k1', jku: `${attacker.url}/jwks`, jwk: attackerJwk, x5u: `${attacker.url}/cert.pem` }],
    ];
    for (const [label, header] of headers) {
      const token = signToken(header, claims(), 'RS256', attackerKey.privateKey);
      await attempt('oidc-key-header', `${label} → ci/app`, ANONYMOUS_REFUSAL, () => send('GET', '/v2/ci/app/tags/list', bearer(token)));
      await attempt('oidc-key-header', `${label} as a registry token`, ANONYMOUS_REFUSAL, () => send('GET', '/v2/ci/app/tags/list', bearer(signToken({ ...header, typ: 'angos+jwt' }, claims(), 'RS256', attackerKey.privateKey))));
    }
    ledger.count('oidc-key-header');
    if (attacker.total > 0) ledger.bypass('oidc-key-header', `the registry fetched from the attacker's server ${attacker.total} time(s): ${JSON.stringify([...attacker.requests])}`);
  });

  it('forged and tampered registry tokens are 401, and a registry token buys no other', async () => {
    const registryToken = (payload: Record<string, unknown>, secret: Buffer = SECRET, alg: 'HS256' | 'HS512' = 'HS256', typ = 'angos+jwt') =>
      signToken({ alg, typ }, payload, alg, secret);
    const bobClaims = { exp: now() + 600, id: 'bob', username: 'bob' };
    const forged: Array<[string, string]> = [
      ['signed with another secret', registryToken(bobClaims, Buffer.alloc(32, 1))],
      ['signed with an empty secret', registryToken(bobClaims, Buffer.alloc(0))],
      ["alice's token with bob in the payload", withPayload(aliceToken, { ...payloadOf(aliceToken), id: 'bob', username: 'bob' })],
      ["alice's token with a later expiry", withPayload(aliceToken, { ...payloadOf(aliceToken), exp: now() + 999_999, id: 'bob', username: 'bob' })],
      ["alice's token with its signature flipped", flippedSignature(aliceToken)],
      ["alice's token with a kid added to the header", withHeader(aliceToken, { alg: 'HS256', typ: 'angos+jwt', kid: 'x' })],
      ["the anonymous token with bob's identity", withPayload(anonymousToken, { ...payloadOf(anonymousToken), id: 'bob', username: 'bob' })],
      ['expired two minutes ago', registryToken({ ...bobClaims, exp: now() - 120 })],
      ['without expiry', registryToken({ id: 'bob', username: 'bob' })],
      ['expiry as a string', registryToken({ ...bobClaims, exp: String(now() + 600) })],
      ['HS512 with the real secret', registryToken(bobClaims, SECRET, 'HS512')],
      ['typ in upper case', registryToken(bobClaims, Buffer.alloc(32, 1), 'HS256', 'ANGOS+JWT')],
      ['an OIDC identity of an unknown provider', registryToken({ exp: now() + 600, oidc: { provider_name: 'gone', provider_type: 'Generic OIDC', claims: { sub: 'build' } } })],
    ];
    for (const [label, token] of forged) {
      await attempt('registry-token', `${label} → denied/app`, ANONYMOUS_REFUSAL, () => send('GET', '/v2/denied/app/manifests/v1', bearer(token)));
    }
    await attempt('registry-token', "alice's token presented to /token", ANONYMOUS_REFUSAL, () => send('GET', '/token', bearer(aliceToken)));
    await attempt('registry-token', 'the anonymous token presented to /token', ANONYMOUS_REFUSAL, () => send('GET', '/token', bearer(anonymousToken)));
    await attempt('registry-token', "a forged bob token presented to /token", ANONYMOUS_REFUSAL, () => send('GET', '/token', bearer(registryToken(bobClaims, Buffer.alloc(32, 1)))));
    await attempt('registry-token', "alice's token as a Basic password", ANONYMOUS_REFUSAL, () => send('GET', '/token', basicAuth('alice', aliceToken)));
    // Valid tokens prove only who they were minted for.
    await attempt('registry-token', "alice's token on denied/app", AUTHENTICATED_REFUSAL, () => send('GET', '/v2/denied/app/manifests/v1', bearer(aliceToken)));
    await attempt('registry-token', 'the anonymous token on denied/app', ANONYMOUS_REFUSAL, () => send('GET', '/v2/denied/app/manifests/v1', bearer(anonymousToken)));
    await attempt('registry-token', 'the anonymous token pushing to public/app', ANONYMOUS_REFUSAL, () => send('PUT', '/v2/public/app/manifests/v9', bearer(anonymousToken), { headers: PUSH, body: imageManifest().bytes }));
  });

  it('Basic credentials that are wrong, odd or repeated never pass as someone else', async () => {
    const cases: Array<[string, string | string[], Accepted]> = [
      ['alice with a wrong password', basicAuth('alice', 'wrong'), ANONYMOUS_REFUSAL],
      ["alice with bob's password", basicAuth('alice', PASSWORDS.bob), ANONYMOUS_REFUSAL],
      ['alice with an empty password', basicAuth('alice', ''), ANONYMOUS_REFUSAL],
      ['Alice in another case', basicAuth('Alice', PASSWORDS.alice), ANONYMOUS_REFUSAL],
      ['alice with a trailing space', basicAuth('alice ', PASSWORDS.alice), ANONYMOUS_REFUSAL],
      ['alice with a NUL after the password', basicAuth('alice', `${PASSWORDS.alice}\u0000`), ANONYMOUS_REFUSAL],
      ['alice with the password doubled', basicAuth('alice', PASSWORDS.alice.repeat(2)), ANONYMOUS_REFUSAL],
      ['a wrong then a right Authorization header', [basicAuth('bob', 'wrong'), bob], ANONYMOUS_REFUSAL],
      ["alice's then bob's Authorization header", [alice, bob], AUTHENTICATED_REFUSAL],
      ['alice under another scheme', `Digest ${Buffer.from(`alice:${PASSWORDS.alice}`).toString('base64')}`, ANONYMOUS_REFUSAL],
      ['alice with bob as a second Basic parameter', `${alice} ${bob.slice('Basic '.length)}`, ANONYMOUS_REFUSAL],
      ['alice on denied/app', alice, AUTHENTICATED_REFUSAL],
    ];
    for (const [label, authorization, accepted] of cases) {
      await attempt('basic', `${label} → denied/app`, accepted, () => send('GET', '/v2/denied/app/manifests/v1', authorization));
    }
    // The repository policy refuses alice on secret/ even though the global one lets her read there.
    await attempt('basic', 'alice reads secret/app (repository policy)', AUTHENTICATED_REFUSAL, () => send('GET', '/v2/secret/app/manifests/v1', alice));
    await attempt('basic', 'anonymous reads secret/app', ANONYMOUS_REFUSAL, () => send('GET', '/v2/secret/app/manifests/v1'));
  });

  it('pushes to the pull-through repository are refused, whoever asks and however', async () => {
    const manifest = imageManifest({ annotations: { pull: 'through' } });
    const blob = content('bypass: a layer pushed at the mirror');
    const session = '3f2e4c1a-8b7d-4e6f-9a0b-1c2d3e4f5a6b';
    const pushes: Array<[string, string, RequestOptions]> = [
      ['PUT', '/v2/hub/library/x/manifests/v1', { headers: PUSH, body: manifest.bytes }],
      ['PUT', `/v2/hub/library/x/manifests/${manifest.digest}?tag=v2`, { headers: PUSH, body: manifest.bytes }],
      ['PUT', '/v2/hub/library/x/manifests/v1?ns=docker.io', { headers: PUSH, body: manifest.bytes }],
      ['POST', '/v2/hub/library/x/blobs/uploads/', {}],
      ['POST', `/v2/hub/library/x/blobs/uploads/?digest=${blob.digest}`, { body: blob.bytes }],
      ['POST', `/v2/hub/library/x/blobs/uploads/?mount=${seeded.allowedBlob.digest}&from=allowed/app`, {}],
      ['PATCH', `/v2/hub/library/x/blobs/uploads/${session}`, { body: blob.bytes }],
      ['PUT', `/v2/hub/library/x/blobs/uploads/${session}?digest=${blob.digest}`, { body: blob.bytes }],
      ['DELETE', `/v2/hub/library/x/blobs/uploads/${session}`, {}],
    ];
    for (const [method, path, options] of pushes) {
      await attempt('pull-through', `alice ${method} ${path}`, AUTHENTICATED_REFUSAL, () => send(method, path, alice, options));
      await attempt('pull-through', `anonymous ${method} ${path}`, ANONYMOUS_REFUSAL, () => send(method, path, undefined, options));
    }
    await attempt('pull-through', 'bob PUT /v2/hub/library/x/manifests/v1', AUTHENTICATED_REFUSAL, () => send('PUT', '/v2/hub/library/x/manifests/v1', bob, { headers: PUSH, body: manifest.bytes }));
    await attempt('pull-through', 'nothing landed in hub/library/x', ['404 NAME_UNKNOWN'], () => send('GET', '/v2/hub/library/x/tags/list', alice));
  });

  it('counts: no bypass', (t: TestContext) => {
    const lines = [...ledger.summary(), `requests to the attacker's key server: ${attacker.total}`];
    for (const line of lines) {
      t.diagnostic(line);
      console.log(`# ${line}`);
    }
    assert.deepEqual(ledger.bypasses, []);
  });
});
