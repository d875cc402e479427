import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFailure as failure, loadConfig as load } from '../../test/support/config-validation.ts';

test('a generic provider gets the documented defaults; providers are sorted by name', () => {
  const { oidcProviders } = load('[auth.oidc.zeta]\nissuer = "https://z.example"\n[auth.oidc.Alpha]\nissuer = "https://a.example/"\n').auth;
  assert.deepEqual(oidcProviders.map((provider) => provider.name), ['Alpha', 'zeta']);
  assert.deepEqual(oidcProviders[1], {
    name: 'zeta',
    provider: 'generic',
    providerType: 'Generic OIDC',
    issuer: 'https://z.example',
    jwksUri: undefined,
    jwksRefreshIntervalSecs: 3600,
    requiredAudience: undefined,
    clockSkewToleranceSecs: 60,
    allowedAlgorithms: ['RS256'],
    requiredClaims: [],
    httpRequestTimeoutSecs: 30,
    jwksRefreshTimeoutSecs: 5,
    bearerTokenFile: undefined,
    serverCaBundle: undefined,
    clientCertificateBundle: undefined,
    clientPrivateKey: undefined,
  });
});

test('the github preset fills issuer, JWKS URI and required claims, adding configured claims', () => {
  const [github] = load('[auth.oidc.gha]\nprovider = "github"\nrequired_claims = ["actor", "environment"]\n').auth.oidcProviders;
  assert.equal(github?.providerType, 'GitHub Actions');
  assert.equal(github?.issuer, 'https://token.actions.githubusercontent.com');
  assert.equal(github?.jwksUri, 'https://token.actions.githubusercontent.com/.well-known/jwks');
  assert.deepEqual(github?.requiredClaims, ['repository', 'actor', 'environment']);
});

test('every key is read with its type and range', () => {
  const [provider] = load(
    '[auth.oidc.ci]\nissuer = "ci-issuer"\njwks_uri = "http://127.0.0.1:1/jwks"\njwks_refresh_interval = 10\nrequired_audience = "reg"\n' +
      'clock_skew_tolerance = 0\nallowed_algorithms = ["ES256", "PS512", "EdDSA"]\nhttp_request_timeout_secs = 2\njwks_refresh_timeout_secs = 1\n' +
      'bearer_token_file = "/run/secrets/issuer-token"\n',
  ).auth.oidcProviders;
  assert.equal(provider?.issuer, 'ci-issuer', 'any issuer string when the JWKS URI is given');
  assert.deepEqual(
    [provider?.jwksRefreshIntervalSecs, provider?.requiredAudience, provider?.clockSkewToleranceSecs, provider?.httpRequestTimeoutSecs, provider?.jwksRefreshTimeoutSecs],
    [10, 'reg', 0, 2, 1],
  );
  assert.deepEqual(provider?.allowedAlgorithms, ['ES256', 'PS512', 'EdDSA']);
  assert.equal(provider?.bearerTokenFile, '/run/secrets/issuer-token');
});

test('none, HMAC, unknown and wrongly cased algorithms fail at load naming the entry', () => {
  for (const [algorithm, index] of [['none', 1], ['HS256', 1], ['rs256', 1], ['RS1024', 1]] as const) {
    const message = failure(`[auth.oidc.ci]\nissuer = "https://i.example"\nallowed_algorithms = ["RS256", "${algorithm}"]\n`);
    assert.match(message, new RegExp(`^auth\\.oidc\\.ci\\.allowed_algorithms\\[${index}\\]: unsupported algorithm "${algorithm}"`));
  }
  assert.match(failure('[auth.oidc.ci]\nissuer = "https://i.example"\nallowed_algorithms = []\n'), /^auth\.oidc\.ci\.allowed_algorithms: must name at least one/);
});

test('bad provider, missing issuer, unusable URLs and out-of-range numbers fail naming the key', () => {
  assert.match(failure('[auth.oidc.ci]\nprovider = "gitlab"\nissuer = "https://i.example"\n'), /^auth\.oidc\.ci\.provider: expected "generic" or "github", got "gitlab"/);
  assert.equal(failure('[auth.oidc.ci]\nprovider = "generic"\n'), "auth.oidc.ci: missing field 'issuer'");
  assert.match(failure('[auth.oidc.ci]\nissuer = "not a url"\n'), /^auth\.oidc\.ci\.issuer: must be an absolute http\(s\) URL when jwks_uri is not set/);
  assert.match(failure('[auth.oidc.ci]\nissuer = "x"\njwks_uri = "ftp://x/jwks"\n'), /^auth\.oidc\.ci\.jwks_uri: must be an absolute http\(s\) URL/);
  assert.match(failure('[auth.oidc.ci]\nissuer = "https://i.example"\njwks_refresh_interval = 0\n'), /^auth\.oidc\.ci\.jwks_refresh_interval must be > 0/);
  assert.match(failure('[auth.oidc.ci]\nissuer = "https://i.example"\nclock_skew_tolerance = -1\n'), /^auth\.oidc\.ci\.clock_skew_tolerance must not be negative/);
  assert.match(failure('[auth.oidc.ci]\nissuer = "https://i.example"\nrequired_claims = "email"\n'), /^auth\.oidc\.ci\.required_claims: invalid type/);
  assert.match(failure('[auth.oidc]\nci = 1\n'), /^auth\.oidc\.ci: invalid type: expected a table/);
});

test('the CA bundle and the client certificate pair are read as paths, without a warning', () => {
  const config = load(
    '[auth.oidc.ci]\nissuer = "https://i.example"\nserver_ca_bundle = "/ca.pem"\nclient_certificate_bundle = "/c.pem"\nclient_private_key = "/c.key"\n',
  );
  assert.deepEqual(config.warnings, []);
  const [provider] = config.auth.oidcProviders;
  assert.deepEqual([provider?.serverCaBundle, provider?.clientCertificateBundle, provider?.clientPrivateKey], ['/ca.pem', '/c.pem', '/c.key']);
});

test('a client certificate without its key, or a key without its certificate, fails at load', () => {
  for (const key of ['client_certificate_bundle', 'client_private_key']) {
    assert.equal(
      failure(`[auth.oidc.ci]\nissuer = "https://i.example"\n${key} = "/x.pem"\n`),
      'auth.oidc.ci: both client_certificate_bundle and client_private_key are required for mTLS',
    );
  }
});
