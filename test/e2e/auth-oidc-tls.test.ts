// An OIDC issuer (docs/configuration.md, `[auth.oidc.<name>]`) served over HTTPS on loopback with a certificate
// from a private CA made by openssl, so `server_ca_bundle`, `client_certificate_bundle` and `client_private_key`
// are exercised by the registry's real discovery and JWKS fetches.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { inTempDir, MINIMAL_CONFIG, runCli } from '../cli/cli-process.ts';
import { expectChallenge, expectError, expectStatus } from '../support/expect.ts';
import { request } from '../support/http.ts';
import { missingOpenssl } from '../support/private-ca-server.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { makeCertificates, type CertificateFiles } from './auth-fixtures.ts';
import { bearer, makeSigningKey, OidcIssuer, type SigningKey } from './oidc-issuer.ts';

// Only a caller the issuer vouched for gets in, so a 200 proves the token was accepted (not merely anonymous).
const POLICY = `[global.access_policy]
default = "deny"
rules = ["identity.oidc != null && identity.oidc.provider_name == 'ci' && identity.oidc.claims.sub == 'build'"]
`;

function providerToml(issuer: OidcIssuer, tls: Record<string, string> = {}): string {
  const keys = Object.entries(tls).map(([key, path]) => `${key} = ${JSON.stringify(path)}\n`).join('');
  return `[auth.oidc.ci]\nissuer = ${JSON.stringify(issuer.url)}\n${keys}\n${POLICY}`;
}

/** `GET /v2/` with the token: 200 when accepted under POLICY. */
function root(server: RunningServer, token: string) {
  return request(server.url, '/v2/', { headers: { authorization: bearer(token) } });
}

async function withServer(toml: string, body: (server: RunningServer) => Promise<void>, env: Record<string, string> = {}): Promise<void> {
  const server = await startServer({ extraToml: toml, env });
  try {
    await body(server);
  } finally {
    await server.stop();
  }
}

describe('OIDC fetches over TLS', { skip: missingOpenssl }, () => {
  let dir: string;
  let files: CertificateFiles;
  let key: SigningKey;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'angos-oidc-tls-'));
    files = await makeCertificates(dir);
    key = await makeSigningKey('k1');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  describe('an issuer whose certificate comes from a private CA', () => {
    let issuer: OidcIssuer;

    before(async () => {
      issuer = await OidcIssuer.start({ cert: await readFile(files.serverCert), key: await readFile(files.serverKey) });
      issuer.published = [key];
    });
    after(() => issuer?.stop());

    it('without server_ca_bundle the token is refused with 503 PROVIDER_UNAVAILABLE: the handshake fails', async () => {
      await withServer(providerToml(issuer), async (server) => {
        const before = issuer.total;
        const response = await root(server, await issuer.sign(key));
        expectError(response, 503, 'PROVIDER_UNAVAILABLE');
        assert.equal(response.headers['www-authenticate'], undefined);
        assert.equal(issuer.total, before, 'no HTTP request got through the handshake');
        assert.match(JSON.stringify(server.logs), /OIDC provider refused the token.*certificate/);
      });
    });

    it('with server_ca_bundle the keys are discovered over HTTPS and the token is accepted', async () => {
      await withServer(providerToml(issuer, { server_ca_bundle: files.caCert }), async (server) => {
        const before = issuer.jwksFetches();
        expectStatus(await root(server, await issuer.sign(key)), 200);
        assert.equal(issuer.jwksFetches(), before + 1);
        // A token the issuer did not sign is still refused: trusting the CA changed nothing else.
        expectChallenge(await root(server, await issuer.sign(await makeSigningKey('k1'))));
      });
    });

    it('the bundle is added to the default roots rather than replacing them', async () => {
      // The private CA is trusted only through NODE_EXTRA_CA_CERTS (a default root); the configured bundle holds an
      // unrelated certificate. Were the bundle to replace the defaults, the handshake would fail.
      const env = { NODE_EXTRA_CA_CERTS: files.caCert };
      await withServer(providerToml(issuer, { server_ca_bundle: files.strangerCert }), async (server) => {
        expectStatus(await root(server, await issuer.sign(key)), 200);
      }, env);
    });
  });

  describe('an issuer that requires a client certificate from the private CA', () => {
    let issuer: OidcIssuer;
    const clients: string[] = [];

    before(async () => {
      issuer = await OidcIssuer.start({
        cert: await readFile(files.serverCert),
        key: await readFile(files.serverKey),
        ca: await readFile(files.caCert),
        requestCert: true,
        rejectUnauthorized: true,
      });
      issuer.published = [key];
      issuer.server.on('request', (req) => clients.push(String((req.socket as TLSSocket).getPeerCertificate().subject.CN)));
    });
    after(() => issuer?.stop());

    it('without a client certificate the registry is turned away: 503 PROVIDER_UNAVAILABLE', async () => {
      await withServer(providerToml(issuer, { server_ca_bundle: files.caCert }), async (server) => {
        expectError(await root(server, await issuer.sign(key)), 503, 'PROVIDER_UNAVAILABLE');
        assert.deepEqual(clients, []);
      });
    });

    it('a certificate from another CA is turned away too', async () => {
      const stranger = { server_ca_bundle: files.caCert, client_certificate_bundle: files.strangerCert, client_private_key: files.strangerKey };
      await withServer(providerToml(issuer, stranger), async (server) => {
        expectError(await root(server, await issuer.sign(key)), 503, 'PROVIDER_UNAVAILABLE');
        assert.deepEqual(clients, []);
      });
    });

    it('with client_certificate_bundle and client_private_key every fetch presents it and the token is accepted', async () => {
      const mtls = { server_ca_bundle: files.caCert, client_certificate_bundle: files.clientCert, client_private_key: files.clientKey };
      await withServer(providerToml(issuer, mtls), async (server) => {
        expectStatus(await root(server, await issuer.sign(key)), 200);
        assert.deepEqual(clients, ['build', 'build'], 'discovery and JWKS both carried the certificate');
      });
    });
  });

  describe('TLS files are checked before the server starts', () => {
    async function expectStartFailure(tls: Record<string, string>, message: string | RegExp): Promise<void> {
      const keys = Object.entries(tls).map(([key, path]) => `${key} = ${JSON.stringify(path)}\n`).join('');
      const config = `${MINIMAL_CONFIG}[auth.oidc.ci]\nissuer = "https://127.0.0.1:1"\n${keys}${POLICY}`;
      await inTempDir({ 'config.toml': config }, async (cwd) => {
        const result = await runCli(['-c', 'config.toml', 'server'], { cwd });
        assert.equal(result.code, 1, result.stdout + result.stderr);
        const errors = result.logs.filter((line) => line.level === 'ERROR').map((line) => String(line.fields.message));
        assert.equal(errors.length, 1, JSON.stringify(result.logs));
        if (typeof message === 'string') assert.equal(errors[0], message);
        else assert.match(errors[0] ?? '', message);
        assert.ok(!result.stdout.includes('Listening on'), 'it never listened');
      });
    }

    it('an unreadable file stops the start, naming the provider, the key and the path', async () => {
      const missing = join(dir, 'missing.pem');
      await expectStartFailure({ server_ca_bundle: missing }, `Server error: auth.oidc.ci: cannot read server_ca_bundle '${missing}': ENOENT`);
      await expectStartFailure(
        { client_certificate_bundle: files.clientCert, client_private_key: missing },
        `Server error: auth.oidc.ci: cannot read client_private_key '${missing}': ENOENT`,
      );
    });

    it('a private key that does not match the certificate stops the start', async () => {
      await expectStartFailure({ client_certificate_bundle: files.clientCert, client_private_key: files.strangerKey }, /^Server error: auth\.oidc\.ci: invalid TLS material: /);
    });

    it('a certificate without its key is a configuration error', async () => {
      await inTempDir({ 'config.toml': `${MINIMAL_CONFIG}[auth.oidc.ci]\nissuer = "https://127.0.0.1:1"\nclient_certificate_bundle = "c.pem"\n` }, async (cwd) => {
        const result = await runCli(['-c', 'config.toml', 'server'], { cwd });
        assert.equal(result.code, 1);
        assert.equal(
          result.stderr.trimEnd(),
          'Failed to load configuration from config.toml: auth.oidc.ci: both client_certificate_bundle and client_private_key are required for mTLS',
        );
      });
    });
  });
});
