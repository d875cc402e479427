// mTLS (docs/configuration.md, `[server.tls]`): `client_auth` modes, certificate identity from the leaf subject,
// cert + Basic together, and `auth_attempts_total{method="mtls"}` (docs/operations.md, "Metrics").
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findBinary, requireBinary } from '../support/binaries.ts';
import { BASIC_CHALLENGE } from '../support/expect.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { tlsGet, type TlsAnswer } from '../support/tls-get.ts';
import { basicAuth, identityToml, makeCertificates, type CertificateFiles } from './auth-fixtures.ts';

interface Client {
  cert?: Buffer;
  key?: Buffer;
  authorization?: string;
}

let certificates: Promise<{ files: CertificateFiles; ca: Buffer; client: Required<Omit<Client, 'authorization'>>; stranger: Required<Omit<Client, 'authorization'>> }> | undefined;

/** Certificates are made once per file, in a temp dir removed at the end. */
function certs() {
  certificates ??= (async () => {
    const files = await makeCertificates(await mkdtemp(join(tmpdir(), 'angos-mtls-')));
    const read = (path: string) => readFile(path);
    return {
      files,
      ca: await read(files.caCert),
      client: { cert: await read(files.clientCert), key: await read(files.clientKey) },
      stranger: { cert: await read(files.strangerCert), key: await read(files.strangerKey) },
    };
  })();
  return certificates;
}

after(async () => {
  if (certificates) await rm((await certificates).files.dir, { recursive: true, force: true });
});

async function get(port: number, path: string, client: Client = {}): Promise<TlsAnswer> {
  const { ca } = await certs();
  const headers: Record<string, string> = client.authorization ? { authorization: client.authorization } : {};
  return tlsGet(port, path, { ca, ...(client.cert ? { cert: client.cert, key: client.key } : {}), headers });
}

async function serverWith(clientAuth: 'required' | 'optional', extra = ''): Promise<RunningServer> {
  const { files } = await certs();
  return startServer({
    extraToml:
      `[server.tls]\nserver_certificate_bundle = ${JSON.stringify(files.serverCert)}\nserver_private_key = ${JSON.stringify(files.serverKey)}\n` +
      `client_ca_bundle = ${JSON.stringify(files.caCert)}\nclient_auth = "${clientAuth}"\n${extra}`,
  });
}

function expectUnauthorized(response: TlsAnswer): void {
  assert.equal(response.status, 401, response.body);
  assert.equal(response.headers['www-authenticate'], BASIC_CHALLENGE);
  assert.equal((JSON.parse(response.body) as { errors: Array<{ code: string }> }).errors[0]?.code, 'UNAUTHORIZED');
}

function mtlsSuccesses(metrics: TlsAnswer): number {
  const line = metrics.body.split('\n').find((entry) => entry.startsWith('auth_attempts_total{method="mtls",result="success"} '));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

const POLICY = `[global.access_policy]
default = "deny"
rules = [
  "request.action == 'metrics'",
  "request.action == 'list-catalog' && identity.certificate.organizations.contains('Platform')",
  "request.action == 'list-tags' && identity.certificate.common_names == ['build'] && identity.certificate.organizations == ['Platform', 'Ops']",
  "request.action == 'get-api-version' && identity.certificate.organizations.contains('Ops') && identity.username == 'alice'",
]
`;

describe('client_auth = "required"', () => {
  let server: RunningServer;
  before(async () => {
    // Each test reports the missing binary (skip locally, fail in CI); the hook only avoids a useless start.
    if (findBinary('openssl') === undefined) return;
    server = await serverWith('required', POLICY + (await identityToml('alice', 'alice', 'hunter2')));
  });
  after(async () => {
    await server?.stop();
  });

  it('a handshake without a certificate, or with one from an unknown CA, fails', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const { stranger, client } = await certs();
    await assert.rejects(get(server.port, '/metrics'));
    await assert.rejects(get(server.port, '/metrics', stranger));
    // The same request with the CA-signed certificate goes through: the refusals were about the certificate.
    assert.equal((await get(server.port, '/metrics', client)).status, 200);
  });

  it('the certificate subject fills identity.certificate, in subject order', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const { client } = await certs();
    assert.equal((await get(server.port, '/v2/_catalog', client)).status, 200);
    // Allowed only when common_names == ['build'] and organizations == ['Platform', 'Ops']: a missing repository is 404.
    const tags = await get(server.port, '/v2/team/app/tags/list', client);
    assert.equal(tags.status, 404, tags.body);
  });

  it('a certificate holder the policy refuses gets 403 DENIED', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const { client } = await certs();
    const response = await get(server.port, '/v2/', client);
    assert.equal(response.status, 403, response.body);
    assert.equal((JSON.parse(response.body) as { errors: Array<{ code: string }> }).errors[0]?.code, 'DENIED');
  });

  it('certificate and Basic together fill both, so a rule can require both', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const { client } = await certs();
    assert.equal((await get(server.port, '/v2/', { ...client, authorization: basicAuth('alice', 'hunter2') })).status, 200);
    expectUnauthorized(await get(server.port, '/v2/', { ...client, authorization: basicAuth('alice', 'wrong') }));
  });

  it('auth_attempts_total counts one mTLS success per request with a certificate identity', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const { client } = await certs();
    const before = mtlsSuccesses(await get(server.port, '/metrics', client));
    await get(server.port, '/v2/_catalog', client);
    // The /metrics request itself carried the certificate as well.
    assert.equal(mtlsSuccesses(await get(server.port, '/metrics', client)), before + 2);
  });
});

describe('client_auth = "optional"', () => {
  let server: RunningServer;
  before(async () => {
    // Each test reports the missing binary (skip locally, fail in CI); the hook only avoids a useless start.
    if (findBinary('openssl') === undefined) return;
    server = await serverWith('optional', POLICY);
  });
  after(async () => {
    await server?.stop();
  });

  it('no certificate: the request proceeds as anonymous and the policy decides', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    assert.equal((await get(server.port, '/metrics')).status, 200);
    expectUnauthorized(await get(server.port, '/v2/_catalog'));
  });

  it('a valid certificate is an identity: the Platform organization rule allows it', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const { client } = await certs();
    assert.equal((await get(server.port, '/v2/_catalog', client)).status, 200);
  });

  it('an untrusted certificate is refused, never downgraded to anonymous', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const { stranger } = await certs();
    await assert.rejects(get(server.port, '/metrics', stranger));
    // The server is unharmed and still serves others.
    assert.equal((await get(server.port, '/metrics')).status, 200);
  });
});
