// The authentication chain (docs/api.md, "Request processing"): mTLS always, then the first of registry token, OIDC
// and Basic that the presented credential is for. A method that takes the credential and refuses it ends the chain
// with a 401 (503 when an OIDC provider is unreachable): invalid credentials are never downgraded to anonymous.
import type { IncomingMessage } from 'node:http';
import type { Cache } from '../cache/cache.ts';
import type { Config } from '../config/types.ts';
import { OciError } from '../oci/errors.ts';
import { logger } from '../observability/logging.ts';
import { authAttemptsTotal } from '../observability/metrics.ts';
import { anonymousIdentity, type Identity } from '../policy/identity.ts';
import { verifyBasic } from './basic.ts';
import { resolveClientIp } from './client-ip.ts';
import { parseAuthorization, type Credentials } from './credentials.ts';
import { certificateIdentity } from './mtls.ts';
import { authenticateOidc } from './oidc/authenticate-oidc.ts';
import { isRegistryToken, verifyRegistryToken } from './token-service/registry-token.ts';

const log = logger('angos::auth');

/** For logs and metrics: the strongest method that succeeded. */
export type AuthMethod = 'mtls' | 'token' | 'oidc' | 'basic' | 'anonymous';

export interface Authentication {
  readonly identity: Identity;
  readonly method: AuthMethod;
  /** The identity came from a registry token (also when a certificate makes the method `mtls`): `/token` refuses it. */
  readonly fromRegistryToken: boolean;
}

export const INVALID_BASIC_CREDENTIALS = 'Invalid basic auth credentials';

/**
 * Who is calling. Throws a 401 `UNAUTHORIZED` for credentials that are presented but wrong (503
 * `PROVIDER_UNAVAILABLE` when the OIDC provider that would decide cannot be reached).
 */
export async function authenticate(config: Config, req: IncomingMessage, cache: Cache): Promise<Authentication> {
  const clientIp = resolveClientIp(req.socket.remoteAddress, req.headersDistinct, config.global.trustedProxies);
  // mTLS always runs, so a policy can require a certificate and a username together.
  const certificate = certificateIdentity(req.socket);
  const hasCertificate = certificate.commonNames.length > 0 || certificate.organizations.length > 0;
  if (hasCertificate) authAttemptsTotal.inc({ method: 'mtls', result: 'success' });
  const identity: Identity = { ...anonymousIdentity(clientIp), certificate };
  const result = (method: AuthMethod, found: Partial<Identity> = {}, fromRegistryToken = false): Authentication => ({
    identity: { ...identity, ...found },
    method: hasCertificate ? 'mtls' : method,
    fromRegistryToken,
  });

  const credentials = parseAuthorization(req.headersDistinct.authorization?.[0]);
  if (credentials === undefined) return result('anonymous');
  if (credentials.scheme === 'bearer' && isRegistryToken(credentials.token)) {
    return result('token', await registryTokenIdentity(config, credentials.token, clientIp), true);
  }
  const oidc = await authenticateOidc(config.auth.oidcProviders, credentials, cache);
  if (oidc !== undefined) return result('oidc', { oidc });
  // A Bearer token no provider takes is "nothing presented".
  if (credentials.scheme !== 'basic') return result('anonymous');
  return result('basic', await basicIdentity(config, credentials, clientIp));
}

async function registryTokenIdentity(config: Config, token: string, clientIp: string | null): Promise<Partial<Identity>> {
  try {
    const restored = await verifyRegistryToken(config, token, Date.now() / 1000);
    authAttemptsTotal.inc({ method: 'token', result: 'success' });
    return restored;
  } catch (error) {
    authAttemptsTotal.inc({ method: 'token', result: 'failed' });
    log.info('registry token refused', { client_ip: clientIp });
    throw error;
  }
}

async function basicIdentity(config: Config, credentials: Credentials & { scheme: 'basic' }, clientIp: string | null): Promise<Partial<Identity>> {
  const match = await verifyBasic(config.auth.identities, credentials.username, credentials.password);
  if (match === undefined) {
    authAttemptsTotal.inc({ method: 'basic', result: 'failed' });
    // A configured username is no secret and tells an operator which account is under attack; anything else
    // typed into the username field might be a misplaced password, so it is not logged.
    const known = config.auth.identities.some((entry) => entry.username === credentials.username);
    log.warn('basic authentication failed', { username: known ? credentials.username : null, client_ip: clientIp });
    throw new OciError('UNAUTHORIZED', INVALID_BASIC_CREDENTIALS);
  }
  authAttemptsTotal.inc({ method: 'basic', result: 'success' });
  return { id: match.id, username: match.username };
}
