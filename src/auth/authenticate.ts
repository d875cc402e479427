// The authentication chain (chapter 03 §2.1) as far as it exists: mTLS, then Basic. Registry tokens and OIDC
// are not implemented yet, so a Bearer token counts as "nothing presented" (§2.1) and the caller stays anonymous.
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config/types.ts';
import { OciError } from '../oci/errors.ts';
import { logger } from '../observability/logging.ts';
import { authAttemptsTotal } from '../observability/metrics.ts';
import { anonymousIdentity, type Identity } from '../policy/identity.ts';
import { verifyBasic } from './basic.ts';
import { resolveClientIp } from './client-ip.ts';
import { parseAuthorization } from './credentials.ts';
import { certificateIdentity } from './mtls.ts';

const log = logger('angos::auth');

/** For logs and metrics: the strongest method that succeeded. */
export type AuthMethod = 'mtls' | 'basic' | 'anonymous';

export interface Authentication {
  readonly identity: Identity;
  readonly method: AuthMethod;
}

export const INVALID_BASIC_CREDENTIALS = 'Invalid basic auth credentials';

/**
 * Who is calling. Throws a 401 `UNAUTHORIZED` for credentials that are presented but wrong: those fail closed,
 * never downgraded to anonymous.
 */
export async function authenticate(config: Config, req: IncomingMessage): Promise<Authentication> {
  const clientIp = resolveClientIp(req.socket.remoteAddress, req.headersDistinct, config.global.trustedProxies);
  // mTLS always runs, so a policy can require a certificate and a username together.
  const certificate = certificateIdentity(req.socket);
  const hasCertificate = certificate.commonNames.length > 0 || certificate.organizations.length > 0;
  if (hasCertificate) authAttemptsTotal.inc({ method: 'mtls', result: 'success' });
  const identity: Identity = { ...anonymousIdentity(clientIp), certificate };

  const credentials = parseAuthorization(req.headersDistinct.authorization?.[0]);
  if (credentials?.scheme !== 'basic') return { identity, method: hasCertificate ? 'mtls' : 'anonymous' };

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
  return {
    identity: { ...identity, id: match.id, username: match.username },
    method: hasCertificate ? 'mtls' : 'basic',
  };
}
