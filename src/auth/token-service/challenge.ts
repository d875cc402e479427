// The `WWW-Authenticate` value of a 401 (docs/api.md, "Request processing"), decided once per request. With the
// token service on, Docker-style clients are sent to `/token` to trade their credential for a registry token;
// `/token` itself keeps the Basic form, since that is where the credential has to be presented.
import type { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';
import type { Config } from '../../config/types.ts';
import type { Action } from '../../policy/actions.ts';
import { isTrustedPeer } from '../client-ip.ts';

export const BASIC_CHALLENGE = 'Basic realm="Angos", charset="UTF-8"';

// A host, IPv4 or bracketed IPv6 literal with an optional port: nothing that could break out of the quoted
// realm parameter or point clients somewhere odd.
const USABLE_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

function bearer(realm: string, service: string): string {
  return `Bearer realm="${realm}",service="${service}"`;
}

/** The listener's scheme, unless a trusted proxy says the client spoke HTTPS to it. */
function requestScheme(config: Config, req: IncomingMessage): 'http' | 'https' {
  if (req.socket instanceof TLSSocket) return 'https';
  const forwarded = req.headersDistinct['x-forwarded-proto']?.[0]?.trim().toLowerCase();
  return forwarded === 'https' && isTrustedPeer(req.socket.remoteAddress, config.global.trustedProxies) ? 'https' : 'http';
}

/** The `Host` header, else the authority of an absolute-form request target. */
function requestHost(req: IncomingMessage): string | undefined {
  const host = req.headers.host;
  if (host !== undefined && host !== '') return host;
  const target = req.url ?? '';
  return /^https?:\/\//i.test(target) && URL.canParse(target) ? new URL(target).host : undefined;
}

export function authChallenge(config: Config, req: IncomingMessage, action: Action): string {
  const service = config.auth.tokenService;
  if (service === undefined || action === 'get-token') return BASIC_CHALLENGE;
  if (service.realm !== undefined) return bearer(service.realm.url, service.realm.service);
  const host = requestHost(req);
  if (host === undefined || !USABLE_HOST.test(host)) return BASIC_CHALLENGE;
  return bearer(`${requestScheme(config, req)}://${host}/token`, host);
}
