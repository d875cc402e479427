// OIDC cases not covered by auth-oidc.test.ts: a JWKS that times out and the github preset's required claims,
// against a loopback issuer made with jose.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { expectChallenge, expectError, expectStatus } from '../support/expect.ts';
import { request } from '../support/http.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { bearer, makeSigningKey, OidcIssuer, type SigningKey } from './oidc-issuer.ts';

const POLICY = `[global.access_policy]
default = "deny"
rules = ["identity.oidc != null && identity.oidc.provider_type == 'GitHub Actions'", "identity.oidc != null && identity.oidc.provider_name == 'slow'"]
`;

describe('the github preset requires repository and actor', () => {
  let issuer: OidcIssuer;
  let server: RunningServer;
  let key: SigningKey;

  before(async () => {
    issuer = await OidcIssuer.start();
    key = await makeSigningKey('gh1');
    issuer.published = [key];
    // The preset's GitHub URLs are replaced by the loopback issuer; its required claims stay.
    const provider = `[auth.oidc.actions]\nprovider = "github"\nissuer = "${issuer.url}"\njwks_uri = "${issuer.url}/jwks"\n`;
    server = await startServer({ extraToml: provider + POLICY });
  });
  after(async () => {
    await server?.stop();
    await issuer?.stop();
  });

  const root = (token: string) => request(server.url, '/v2/', { headers: { authorization: bearer(token) } });

  it('a token with both claims authenticates as a GitHub Actions identity', async () => {
    expectStatus(await root(await issuer.sign(key, { repository: 'org/app', actor: 'octocat' })), 200);
  });

  it('a token without actor, or with a null repository, is 401', async () => {
    expectChallenge(await root(await issuer.sign(key, { repository: 'org/app' })));
    expectChallenge(await root(await issuer.sign(key, { repository: null, actor: 'octocat' })));
  });
});

/** A TCP server that accepts connections and never answers: a JWKS fetch against it can only time out. */
async function silentServer(): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.resume();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('a JWKS that does not answer in time', () => {
  let issuer: OidcIssuer;
  let silent: Awaited<ReturnType<typeof silentServer>>;
  let server: RunningServer;
  let key: SigningKey;

  before(async () => {
    [issuer, silent] = await Promise.all([OidcIssuer.start(), silentServer()]);
    key = await makeSigningKey('s1');
    const provider = `[auth.oidc.slow]\nissuer = "${issuer.url}"\njwks_uri = "${silent.url}/jwks"\nhttp_request_timeout_secs = 1\n`;
    server = await startServer({ extraToml: provider + POLICY });
  });
  after(async () => {
    await server?.stop();
    await silent?.close();
    await issuer?.stop();
  });

  it('is 503 PROVIDER_UNAVAILABLE without a challenge, and nothing is cached: the next request fetches again', async () => {
    const first = await request(server.url, '/v2/', { headers: { authorization: bearer(await issuer.sign(key)) } });
    expectError(first, 503, 'PROVIDER_UNAVAILABLE');
    assert.equal(first.headers['www-authenticate'], undefined);
    const fetches = silent.connections();
    assert.ok(fetches >= 1, 'the registry tried the JWKS');
    expectError(await request(server.url, '/v2/', { headers: { authorization: bearer(await issuer.sign(key)) } }), 503, 'PROVIDER_UNAVAILABLE');
    assert.ok(silent.connections() > fetches, 'the failure was not cached');
  });
});
