import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuthorizationWebhookConfig } from '../../src/config/types.ts';

/** One call the webhook received. */
export interface WebhookCall {
  method: string;
  /** The request target as sent (path and query). */
  url: string;
  /** Every value of each header, lower-cased names, in arrival order. */
  headers: Record<string, string[]>;
}

/** What to answer: a status, or `hang` to never answer (the caller's timeout must fire). */
export type WebhookAnswer = number | 'hang';

export interface WebhookServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  calls: WebhookCall[];
  /** Decides each answer; defaults to 200 for everything. */
  answer: (call: WebhookCall) => WebhookAnswer;
  close(): Promise<void>;
}

/** An authorization webhook on a free loopback port that records every call. */
export async function startWebhookServer(): Promise<WebhookServer> {
  const hanging = new Set<ServerResponse>();
  const webhook: WebhookServer = {
    url: '',
    calls: [],
    answer: () => 200,
    async close() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const headers: Record<string, string[]> = {};
    for (let index = 0; index < req.rawHeaders.length; index += 2) {
      const name = req.rawHeaders[index]!.toLowerCase();
      (headers[name] ??= []).push(req.rawHeaders[index + 1]!);
    }
    const call: WebhookCall = { method: req.method ?? '', url: req.url ?? '', headers };
    webhook.calls.push(call);
    const answer = webhook.answer(call);
    if (answer === 'hang') {
      hanging.add(res);
      return;
    }
    res.writeHead(answer, answer >= 300 && answer < 400 ? { location: 'http://127.0.0.1:1/elsewhere' } : {});
    res.end('ignored body');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  webhook.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return webhook;
}

/** A validated-shape `[auth.webhook.opa]` calling `url`: no credentials, TLS files or forwarded headers unless given. */
export function webhookConfig(url: string, extra: Partial<AuthorizationWebhookConfig> = {}): AuthorizationWebhookConfig {
  return {
    name: 'opa',
    url,
    timeoutMs: 2000,
    credentials: undefined,
    clientCertificateBundle: undefined,
    clientPrivateKey: undefined,
    serverCaBundle: undefined,
    forwardHeaders: [],
    cacheTtlSecs: 60,
    ...extra,
  };
}
