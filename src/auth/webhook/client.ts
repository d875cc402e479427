// The HTTP call to an authorization webhook (docs/configuration.md, `[auth.webhook.<name>]`): a bodiless GET to the
// configured URL, no redirects followed, answered by its status alone. TLS material is read once per configured
// webhook (see ../tls-client.ts).
import { Agent as HttpAgent, request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import type { AuthorizationWebhookConfig } from '../../config/types.ts';
import { tlsClientAgent } from '../tls-client.ts';
import { credentialHeader, type HeaderList } from './headers.ts';

/** What the webhook answered, in the terms of the `result` metric label. */
export type WebhookOutcome =
  | { readonly result: 'allow' | 'deny' | 'unavailable'; readonly status: number }
  | { readonly result: 'transport_error'; readonly error: string };

type Agent = HttpAgent | HttpsAgent;

// Plain-HTTP webhooks need no per-webhook settings, so they share one pool.
const plainAgent = new HttpAgent({ keepAlive: true });

/**
 * The connection pool of one webhook, reading its certificate files on first use. Called for every webhook at
 * start-up so unreadable files stop the server instead of denying every request.
 */
export function webhookAgent(webhook: AuthorizationWebhookConfig): Promise<Agent> {
  if (new URL(webhook.url).protocol === 'http:') return Promise.resolve(plainAgent);
  return tlsClientAgent(webhook, `auth.webhook.${webhook.name}`);
}

/** Calls the webhook once; never throws. A status is all that matters, so the body is drained unread. */
export async function callWebhook(webhook: AuthorizationWebhookConfig, headers: HeaderList): Promise<WebhookOutcome> {
  let agent: Agent;
  try {
    agent = await webhookAgent(webhook);
  } catch (err) {
    return { result: 'transport_error', error: (err as Error).message };
  }
  const outgoing: OutgoingHttpHeaders = {};
  for (const [name, value] of headers) {
    const previous = outgoing[name];
    outgoing[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [String(previous)]), value];
  }
  const authorization = credentialHeader(webhook);
  if (authorization !== undefined) outgoing.authorization = authorization;

  return new Promise<WebhookOutcome>((resolve) => {
    const send = new URL(webhook.url).protocol === 'https:' ? httpsRequest : httpRequest;
    let request: ReturnType<typeof httpRequest>;
    try {
      request = send(webhook.url, { method: 'GET', headers: outgoing, agent });
    } catch (err) {
      resolve({ result: 'transport_error', error: (err as Error).message });
      return;
    }
    // `timeout_ms` bounds the whole call, connecting included, not just idle time on the socket.
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${webhook.timeoutMs} ms`)), webhook.timeoutMs);
    request.once('response', (response) => {
      clearTimeout(timer);
      response.resume();
      response.once('error', () => {});
      const status = response.statusCode ?? 0;
      resolve({ result: classify(status), status });
    });
    request.once('error', (err) => {
      clearTimeout(timer);
      resolve({ result: 'transport_error', error: err.message });
    });
    request.end();
  });
}

/** 2xx allows, 401/403 deny; anything else (3xx, other 4xx, 5xx) means the webhook could not decide. */
function classify(status: number): 'allow' | 'deny' | 'unavailable' {
  if (status >= 200 && status < 300) return 'allow';
  return status === 401 || status === 403 ? 'deny' : 'unavailable';
}
