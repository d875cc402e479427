import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import type { HttpResponse } from './http.ts';

/**
 * What became of a request sent to a server that may be killed under it: answered, cut (the connection died; then
 * whether the whole body had been handed to the socket, the only case in which the server may have committed it),
 * or hung (no answer within the guard).
 */
export type RequestOutcome =
  | { kind: 'answered'; response: HttpResponse }
  | { kind: 'cut'; bodySent: boolean; error: Error }
  | { kind: 'hung'; bodySent: boolean };

export interface OutcomeOptions {
  method: string;
  headers?: OutgoingHttpHeaders;
  /** Sent with its `Content-Length`. */
  body?: Buffer;
  /** Sent with `Transfer-Encoding: chunked`, one HTTP chunk per element (as docker streams a layer). */
  chunks?: Buffer[];
  /** A hang guard, not a timing assertion. */
  hangMs?: number;
}

/** One request on its own connection; never rejects: a cut connection is an outcome, not an error. */
export function requestOutcome(baseUrl: string, path: string, options: OutcomeOptions): Promise<RequestOutcome> {
  const url = new URL(baseUrl);
  const headers: OutgoingHttpHeaders = { ...options.headers };
  if (options.body !== undefined) headers['content-length'] = options.body.length;
  else if (options.chunks === undefined) headers['content-length'] = 0;
  return new Promise((resolve) => {
    let bodySent = false;
    let settled = false;
    const settle = (outcome: RequestOutcome): void => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const req = httpRequest({ host: url.hostname, port: url.port, method: options.method, path, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('error', (error) => settle({ kind: 'cut', bodySent, error }));
      res.on('end', () => settle({ kind: 'answered', response: { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) } }));
    });
    // 'finish': every byte of the request was handed to the operating system.
    req.on('finish', () => (bodySent = true));
    req.on('error', (error) => settle({ kind: 'cut', bodySent, error }));
    req.setTimeout(options.hangMs ?? 30_000, () => {
      settle({ kind: 'hung', bodySent });
      req.destroy();
    });
    for (const chunk of options.chunks ?? []) req.write(chunk);
    req.end(options.body);
  });
}
