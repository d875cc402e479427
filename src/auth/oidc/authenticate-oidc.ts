// The OIDC step of the authentication chain (docs/api.md, "Request processing"): which providers see the
// credential, in what order, and which verdict wins. Every provider sees every Bearer token; a Basic credential
// goes only to the provider it names.
import type { Cache } from '../../cache/cache.ts';
import type { OidcProviderConfig } from '../../config/types.ts';
import { OciError } from '../../oci/errors.ts';
import { logger } from '../../observability/logging.ts';
import { authAttemptsTotal } from '../../observability/metrics.ts';
import type { OidcIdentity } from '../../policy/identity.ts';
import type { Credentials } from '../credentials.ts';
import { ProviderUnavailable, TokenRejected } from './failures.ts';
import { validateOidcToken } from './validate-token.ts';

const log = logger('angos::auth::oidc');

export const INVALID_OIDC_TOKEN = 'Invalid OIDC token';

function candidates(providers: readonly OidcProviderConfig[], credentials: Credentials): { token: string; providers: readonly OidcProviderConfig[] } {
  if (credentials.scheme === 'bearer') return { token: credentials.token, providers };
  return { token: credentials.password, providers: providers.filter((provider) => provider.name === credentials.username) };
}

/**
 * The OIDC identity, or undefined when no provider takes this credential (the chain goes on to Basic).
 * A credential some provider took but none accepted throws the first provider's failure: 401, or 503 when
 * that provider was unreachable. `providers` are already in the order they are tried.
 */
export async function authenticateOidc(
  providers: readonly OidcProviderConfig[],
  credentials: Credentials,
  cache: Cache,
): Promise<OidcIdentity | undefined> {
  const selected = candidates(providers, credentials);
  if (selected.providers.length === 0) return undefined;
  const nowSecs = Date.now() / 1000;
  let firstFailure: Error | undefined;
  for (const provider of selected.providers) {
    try {
      const identity = await validateOidcToken(provider, selected.token, cache, nowSecs);
      authAttemptsTotal.inc({ method: 'oidc', result: 'success' });
      const { sub, iss } = identity.claims;
      log.debug('OIDC token accepted', { provider: provider.name, sub: typeof sub === 'string' ? sub : null, iss: typeof iss === 'string' ? iss : null });
      return identity;
    } catch (error) {
      if (!(error instanceof TokenRejected || error instanceof ProviderUnavailable)) throw error;
      // Only our own check descriptions are logged, never the token or its claims.
      log.info('OIDC provider refused the token', { provider: provider.name, reason: error.message, unavailable: error instanceof ProviderUnavailable });
      firstFailure ??= error;
    }
  }
  authAttemptsTotal.inc({ method: 'oidc', result: 'failed' });
  if (firstFailure instanceof ProviderUnavailable) throw new OciError('PROVIDER_UNAVAILABLE');
  throw new OciError('UNAUTHORIZED', INVALID_OIDC_TOKEN);
}
