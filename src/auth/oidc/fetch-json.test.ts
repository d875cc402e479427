import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import type { OidcProviderConfig } from '../../config/types.ts';
import type { CertificateFiles } from '../../../test/e2e/auth-fixtures.ts';
import { missingOpenssl, startPrivateCaServer, type PrivateCaServer } from '../../../test/support/private-ca-server.ts';
import { ProviderUnavailable } from './failures.ts';
import { fetchJson, providerAgent } from './fetch-json.ts';

// An HTTPS key endpoint whose certificate comes from a private CA and which wants a client certificate from it.
describe('fetchJson over HTTPS with the provider TLS settings', { skip: missingOpenssl }, () => {
  let server: PrivateCaServer;
  let files: CertificateFiles;
  let url: string;

  before(async () => {
    server = await startPrivateCaServer((req) => JSON.stringify({ keys: [], accept: req.headers.accept }));
    files = server.files;
    url = `${server.url}/jwks`;
  });
  after(() => server.close());

  const provider = (tls: Partial<OidcProviderConfig>): OidcProviderConfig => ({
    name: 'ci', provider: 'generic', providerType: 'Generic OIDC', issuer: url, jwksUri: url, jwksRefreshIntervalSecs: 3600,
    requiredAudience: undefined, clockSkewToleranceSecs: 60, allowedAlgorithms: ['RS256'], requiredClaims: [], httpRequestTimeoutSecs: 5,
    jwksRefreshTimeoutSecs: 5, bearerTokenFile: undefined, serverCaBundle: undefined, clientCertificateBundle: undefined, clientPrivateKey: undefined,
    ...tls,
  });

  it('with the CA bundle and the client certificate the document is fetched, with the Accept header', async () => {
    server.clients.length = 0;
    const fetched = await fetchJson(provider({ serverCaBundle: files.caCert, clientCertificateBundle: files.clientCert, clientPrivateKey: files.clientKey }), url, 5);
    assert.deepEqual(fetched.value, { keys: [], accept: 'application/jwk-set+json, application/json;q=0.9, */*;q=0.8' });
    assert.deepEqual(server.clients, ['build']);
  });

  it('without the CA bundle, or without the client certificate, the provider is unavailable', async () => {
    server.clients.length = 0;
    await assert.rejects(
      fetchJson(provider({ clientCertificateBundle: files.clientCert, clientPrivateKey: files.clientKey }), url, 5),
      (error: unknown) => error instanceof ProviderUnavailable && error.message.startsWith(`GET ${url} failed: `) && /certificate/.test(error.message),
    );
    await assert.rejects(fetchJson(provider({ serverCaBundle: files.caCert }), url, 5), ProviderUnavailable);
    assert.deepEqual(server.clients, [], 'no request got through');
  });

  it('an unreadable CA bundle is a configuration error at start-up and an unavailable provider afterwards', async () => {
    const broken = provider({ serverCaBundle: join(dirname(files.caCert), 'gone.pem') });
    await assert.rejects(providerAgent(broken), { message: `auth.oidc.ci: cannot read server_ca_bundle '${join(dirname(files.caCert), 'gone.pem')}': ENOENT` });
    await assert.rejects(fetchJson(broken, url, 5), (error: unknown) => error instanceof ProviderUnavailable && /cannot read server_ca_bundle/.test(error.message));
  });
});
