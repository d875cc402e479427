// `[auth.oidc.<name>]` (docs/configuration.md). Algorithms are checked here so a provider can never
// be configured to trust `none` or a shared-secret HMAC (anyone holding the issuer's public JWKS could then forge
// tokens): such names fail the load instead of every request.
import { ConfigValueError, type TableReader } from './table-reader.ts';
import type { OidcAlgorithm, OidcProviderConfig } from './types.ts';

const ALGORITHMS: readonly OidcAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];

const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
const GITHUB_JWKS_URI = `${GITHUB_ISSUER}/.well-known/jwks`;
const GITHUB_REQUIRED_CLAIMS = ['repository', 'actor'];

function isHttpUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const { protocol, host } = new URL(text);
  return (protocol === 'http:' || protocol === 'https:') && host !== '';
}

function readProvider(name: string, entry: TableReader): OidcProviderConfig {
  const provider = entry.string('provider') ?? 'generic';
  if (provider !== 'generic' && provider !== 'github') entry.fail('provider', `expected "generic" or "github", got ${JSON.stringify(provider)}`);
  const github = provider === 'github';
  const issuer = entry.string('issuer') ?? (github ? GITHUB_ISSUER : entry.missing('issuer'));
  const jwksUri = entry.string('jwks_uri') ?? (github ? GITHUB_JWKS_URI : undefined);
  if (jwksUri !== undefined && !isHttpUrl(jwksUri)) entry.fail('jwks_uri', `must be an absolute http(s) URL, got ${JSON.stringify(jwksUri)}`);
  // Without a JWKS URI the keys are discovered below the issuer, which must then be a URL.
  if (jwksUri === undefined && !isHttpUrl(issuer)) {
    entry.fail('issuer', `must be an absolute http(s) URL when jwks_uri is not set (keys are discovered from it), got ${JSON.stringify(issuer)}`);
  }
  const allowedAlgorithms = entry.stringArray('allowed_algorithms') ?? ['RS256'];
  if (allowedAlgorithms.length === 0) entry.fail('allowed_algorithms', 'must name at least one algorithm');
  allowedAlgorithms.forEach((algorithm, index) => {
    if (!(ALGORITHMS as readonly string[]).includes(algorithm)) {
      throw new ConfigValueError(
        `${entry.pathOf('allowed_algorithms')}[${index}]: unsupported algorithm ${JSON.stringify(algorithm)} (expected one of ${ALGORITHMS.join(', ')})`,
      );
    }
  });
  const requiredClaims = entry.stringArray('required_claims') ?? [];
  // The files themselves are read when the server starts (../auth/tls-client.ts); only their pairing is a
  // property of the document.
  const clientCertificateBundle = entry.string('client_certificate_bundle');
  const clientPrivateKey = entry.string('client_private_key');
  if ((clientCertificateBundle === undefined) !== (clientPrivateKey === undefined)) {
    throw new ConfigValueError(`${entry.path}: both client_certificate_bundle and client_private_key are required for mTLS`);
  }
  const result: OidcProviderConfig = {
    name,
    provider,
    providerType: github ? 'GitHub Actions' : 'Generic OIDC',
    issuer,
    jwksUri,
    jwksRefreshIntervalSecs: entry.integer('jwks_refresh_interval', { min: 1 }) ?? 3600,
    requiredAudience: entry.string('required_audience'),
    clockSkewToleranceSecs: entry.integer('clock_skew_tolerance', { min: 0 }) ?? 60,
    allowedAlgorithms: allowedAlgorithms as OidcAlgorithm[],
    requiredClaims: [...new Set([...(github ? GITHUB_REQUIRED_CLAIMS : []), ...requiredClaims])],
    httpRequestTimeoutSecs: entry.integer('http_request_timeout_secs', { min: 1 }) ?? 30,
    jwksRefreshTimeoutSecs: entry.integer('jwks_refresh_timeout_secs', { min: 1 }) ?? 5,
    bearerTokenFile: entry.string('bearer_token_file'),
    serverCaBundle: entry.string('server_ca_bundle'),
    clientCertificateBundle,
    clientPrivateKey,
  };
  entry.finish();
  return result;
}

/** `section` is the `[auth.oidc]` table; providers come back sorted by name, the order they are tried in. */
export function readOidcProviders(section: TableReader | undefined): OidcProviderConfig[] {
  if (section === undefined) return [];
  const names = section.keys().sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return names.map((name) => readProvider(name, section.table(name)!));
}
