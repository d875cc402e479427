// The headers of one authorization-webhook call (docs/configuration.md, `[auth.webhook.<name>]`): the forwarded
// request context, the registry action, the caller's identity and the operator-chosen client headers. Credentials
// are added by the client, apart from these, because they must stay out of the decision-cache key (`cache-key.ts`).
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AuthorizationWebhookConfig } from '../../config/types.ts';
import type { Identity } from '../../policy/identity.ts';
import type { RequestVariables } from '../../policy/request-variables.ts';

/** One request under authorization: the client's HTTP request, who it is and what it asks for. */
export interface WebhookSubject {
  readonly req: IncomingMessage;
  readonly identity: Identity;
  readonly request: RequestVariables;
}

/** Name and wire value pairs in sending order; a name may repeat (one line per value). */
export type HeaderList = ReadonlyArray<readonly [name: string, value: string]>;

/** A value with characters no header may carry (control characters, e.g. in a certificate CN): nothing is sent. */
export class UnencodableHeaderError extends Error {
  constructor(name: string) {
    super(`the value of ${name} cannot be sent in an HTTP header`);
    this.name = 'UnencodableHeaderError';
  }
}

// Field values may hold tab, visible ASCII and bytes 0x80–0xFF (obs-text); everything else is refused.
const FORBIDDEN = /[\x00-\x08\x0a-\x1f\x7f]/;
const MANIFEST_ACTIONS = new Set(['get-manifest', 'put-manifest', 'delete-manifest']);

export function webhookHeaders(webhook: AuthorizationWebhookConfig, subject: WebhookSubject): HeaderList {
  const { req, identity, request } = subject;
  const headers: Array<[string, string]> = [];
  // Values the registry produces are text; they travel as their UTF-8 bytes, which Node writes as latin1.
  const text = (name: string, value: string) => headers.push([name, wire(name, Buffer.from(value, 'utf8').toString('latin1'))]);
  // Values copied from the client's request are already the bytes it sent (Node reads headers as latin1).
  const copied = (name: string, value: string) => headers.push([name, wire(name, value)]);

  copied('X-Forwarded-Method', req.method ?? 'GET');
  text('X-Forwarded-Proto', (req.socket as Partial<TLSSocket>).encrypted === true ? 'https' : 'http');
  const host = req.headersDistinct.host?.[0];
  if (host !== undefined) copied('X-Forwarded-Host', host);
  copied('X-Forwarded-Uri', req.url ?? '/');
  if (identity.clientIp !== null) text('X-Forwarded-For', identity.clientIp);

  text('X-Registry-Action', request.action);
  if (request.namespace !== undefined) text('X-Registry-Namespace', request.namespace);
  if (request.reference !== undefined && MANIFEST_ACTIONS.has(request.action)) text('X-Registry-Reference', request.reference);
  if (request.digest !== undefined) text('X-Registry-Digest', request.digest);

  if (identity.username !== null) text('X-Registry-Username', identity.username);
  if (identity.id !== null) text('X-Registry-Identity-ID', identity.id);
  for (const cn of identity.certificate.commonNames) text('X-Registry-Certificate-CN', cn);
  for (const o of identity.certificate.organizations) text('X-Registry-Certificate-O', o);
  if (identity.oidc !== null) {
    text('X-Registry-OIDC-Provider', identity.oidc.providerName);
    const subjectClaim = identity.oidc.claims.sub;
    if (typeof subjectClaim === 'string') text('X-Registry-OIDC-Subject', subjectClaim);
  }

  for (const name of webhook.forwardHeaders) {
    // The webhook's own credentials replace a forwarded Authorization rather than travel beside it.
    if (name === 'authorization' && webhook.credentials !== undefined) continue;
    for (const value of req.headersDistinct[name] ?? []) copied(name, value);
  }
  return headers;
}

function wire(name: string, value: string): string {
  if (FORBIDDEN.test(value) || /[^\x00-\xff]/.test(value)) throw new UnencodableHeaderError(name);
  return value;
}

/** The `Authorization` value carrying the webhook's configured credentials, if any. */
export function credentialHeader(webhook: AuthorizationWebhookConfig): string | undefined {
  const { credentials } = webhook;
  if (credentials === undefined) return undefined;
  if (credentials.kind === 'bearer') return `Bearer ${credentials.token}`;
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
}
