import type { Identity } from '../policy/identity.ts';
import type { Actor } from '../registry/events.ts';

/**
 * The caller as registry events name it: the Basic identity and username, or an OIDC token's subject as the
 * username, and the client IP; anonymous callers are known by their IP only.
 */
export function actorOf(identity: Identity): Actor {
  const subject = identity.oidc?.claims.sub;
  const username = identity.username ?? (typeof subject === 'string' ? subject : null);
  return {
    ...(identity.id !== null ? { id: identity.id } : {}),
    ...(username !== null ? { username } : {}),
    ...(identity.clientIp !== null ? { clientIp: identity.clientIp } : {}),
  };
}
