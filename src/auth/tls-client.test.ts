import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { get, type Agent } from 'node:https';
import { dirname, join } from 'node:path';
import type { CertificateFiles } from '../../test/e2e/auth-fixtures.ts';
import { missingOpenssl, startPrivateCaServer, type PrivateCaServer } from '../../test/support/private-ca-server.ts';
import { buildTlsClientAgent, tlsClientAgent, type TlsClientFiles } from './tls-client.ts';

const none: TlsClientFiles = { serverCaBundle: undefined, clientCertificateBundle: undefined, clientPrivateKey: undefined };

describe('tlsClientAgent', { skip: missingOpenssl }, () => {
  let server: PrivateCaServer;
  let files: CertificateFiles;
  let dir: string;

  // Only clients presenting a certificate from the private CA get an answer, which names them.
  before(async () => {
    server = await startPrivateCaServer((_req, client) => client);
    files = server.files;
    dir = dirname(files.caCert);
  });
  after(() => server.close());

  /** The body the server answered, or the client-side error message. */
  function call(agent: Agent): Promise<string> {
    return new Promise((resolve) => {
      get(`${server.url}/`, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve(body));
      }).on('error', (err) => resolve(`error: ${err.message}`));
    });
  }

  it('trusts every certificate of the extra CA bundle and presents the client certificate', async () => {
    // The private CA second in the bundle: each certificate counts, not only the first.
    const bundle = join(dir, 'bundle.pem');
    await writeFile(bundle, Buffer.concat([await readFile(files.strangerCert), await readFile(files.caCert)]));
    const agent = await buildTlsClientAgent({ serverCaBundle: bundle, clientCertificateBundle: files.clientCert, clientPrivateKey: files.clientKey }, 'auth.oidc.ci');
    server.clients.length = 0;
    assert.equal(await call(agent), 'build');
    assert.deepEqual(server.clients, ['build']);
  });

  it('without the bundle the private CA is not trusted; without the certificate the server refuses', async () => {
    server.clients.length = 0;
    const untrusting = await buildTlsClientAgent({ ...none, clientCertificateBundle: files.clientCert, clientPrivateKey: files.clientKey }, 'auth.oidc.ci');
    assert.match(await call(untrusting), /^error: .*certificate/);
    const anonymous = await buildTlsClientAgent({ ...none, serverCaBundle: files.caCert }, 'auth.oidc.ci');
    assert.match(await call(anonymous), /^error: /);
    assert.deepEqual(server.clients, [], 'no request reached the server');
  });

  it('an unreadable file is an error naming the section, the key and the path', async () => {
    const missing = join(dir, 'missing.pem');
    await assert.rejects(buildTlsClientAgent({ ...none, serverCaBundle: missing }, 'auth.oidc.ci'), {
      message: `auth.oidc.ci: cannot read server_ca_bundle '${missing}': ENOENT`,
    });
    await assert.rejects(buildTlsClientAgent({ ...none, clientCertificateBundle: missing, clientPrivateKey: files.clientKey }, 'auth.webhook.opa'), {
      message: `auth.webhook.opa: cannot read client_certificate_bundle '${missing}': ENOENT`,
    });
    await assert.rejects(buildTlsClientAgent({ ...none, clientCertificateBundle: files.clientCert, clientPrivateKey: missing }, 'auth.webhook.opa'), {
      message: `auth.webhook.opa: cannot read client_private_key '${missing}': ENOENT`,
    });
  });

  it('a certificate without its key, a key of another certificate or a broken PEM is reported when built', async () => {
    await assert.rejects(buildTlsClientAgent({ ...none, clientCertificateBundle: files.clientCert }, 'auth.oidc.ci'), {
      message: 'auth.oidc.ci: both client_certificate_bundle and client_private_key are required for mTLS',
    });
    await assert.rejects(
      buildTlsClientAgent({ ...none, clientCertificateBundle: files.clientCert, clientPrivateKey: files.strangerKey }, 'auth.oidc.ci'),
      /^Error: auth\.oidc\.ci: invalid TLS material: /,
    );
    const junk = join(dir, 'junk.pem');
    await writeFile(junk, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
    await assert.rejects(buildTlsClientAgent({ ...none, serverCaBundle: junk }, 'auth.oidc.ci'), /^Error: auth\.oidc\.ci: invalid TLS material: server_ca_bundle certificate #1: /);
    // OpenSSL would skip a file without certificates silently, leaving the operator's CA untrusted.
    await writeFile(junk, 'not a certificate\n');
    await assert.rejects(buildTlsClientAgent({ ...none, serverCaBundle: junk }, 'auth.oidc.ci'), {
      message: 'auth.oidc.ci: invalid TLS material: server_ca_bundle holds no PEM certificate',
    });
  });

  it('is built once per configuration object, and a failed read is retried once the file exists', async () => {
    const later = join(dir, 'later-ca.pem');
    const remote: TlsClientFiles = { ...none, serverCaBundle: later };
    await assert.rejects(tlsClientAgent(remote, 'auth.oidc.ci'), /cannot read server_ca_bundle/);
    await copyFile(files.caCert, later);
    const agent = await tlsClientAgent(remote, 'auth.oidc.ci');
    assert.equal(await tlsClientAgent(remote, 'auth.oidc.ci'), agent);
    assert.notEqual(await tlsClientAgent({ ...remote }, 'auth.oidc.ci'), agent, 'a new configuration object gets its own agent');
  });
});
