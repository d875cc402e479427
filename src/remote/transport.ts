// One remote client's connections (spec §1.1): an undici Agent with the connect and read timeouts and the TLS
// material, and the redirect loop every request goes through. No whole-transfer deadline: a multi-GB blob that
// keeps moving is never cut, a remote silent for `read_timeout_secs` is (undici's body timer does not run while
// the reader holds the stream paused, so a slow consumer never trips it).
import type { Readable } from 'node:stream';
import type { SecureContext } from 'node:tls';
import { Agent, request } from 'undici';
import { asRemoteError, RemoteError } from './remote-error.ts';

export interface TransportOptions {
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly maxRedirect: number;
  /** Extra roots and the client certificate, built once (remote-tls.ts); undefined = Node's defaults. */
  readonly secureContext: SecureContext | undefined;
}

export type HeaderValues = Readonly<Record<string, string | readonly string[]>>;
export type ResponseHeaders = Readonly<Record<string, string | string[] | undefined>>;

export interface Outgoing {
  readonly method: string;
  readonly url: URL;
  /** Lower-case names; an array is sent as one header line per item. Never `authorization`. */
  readonly headers: HeaderValues;
  /** Sent to the first URL and to redirects on its scheme, host and port; dropped on any other origin. */
  readonly authorization: string | undefined;
  readonly body?: Buffer | Readable | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface Incoming {
  readonly status: number;
  readonly headers: ResponseHeaders;
  /** Consume it or destroy it: an unread body holds its connection. */
  readonly body: Readable & { dump(options?: { limit: number }): Promise<void> };
  /** The URL that answered (the last redirect's target). */
  readonly url: URL;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** The URL for messages and logs: query strings of signed CDN URLs are credentials. */
export function shown(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** Reads and drops what is left of a body (a bounded amount; past it the connection is closed instead). */
export async function drain(incoming: Incoming): Promise<void> {
  await incoming.body.dump().catch(() => undefined);
}

/** Closes a body that will not be read (its connection with it); the abort it reports to itself is expected. */
export function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

export class Transport {
  readonly #agent: Agent;
  readonly #maxRedirect: number;

  constructor(options: TransportOptions) {
    this.#maxRedirect = options.maxRedirect;
    this.#agent = new Agent({
      connect: { timeout: options.connectTimeoutMs, ...(options.secureContext === undefined ? {} : { secureContext: options.secureContext }) },
      headersTimeout: options.readTimeoutMs,
      bodyTimeout: options.readTimeoutMs,
    });
  }

  /**
   * Sends `out`, following up to `maxRedirect` redirects for every method (relative `Location` resolved against
   * the answering URL). 303, and 301/302 of a POST, continue as a GET without body, as browsers and Go do; other
   * redirects resend the method and body, which a streamed body cannot be (a failure).
   */
  async send(out: Outgoing): Promise<Incoming> {
    let { method, url, authorization } = out;
    let headers = out.headers;
    let body = out.body;
    for (let redirects = 0; ; redirects += 1) {
      const incoming = await this.#once(method, url, headers, authorization, body, out.signal);
      const location = headerValue(incoming.headers, 'location');
      if (!REDIRECTS.has(incoming.status) || location === undefined) return incoming;
      await drain(incoming);
      const context = `${out.method} ${shown(out.url)}`;
      if (redirects >= this.#maxRedirect) {
        throw new RemoteError(`${context}: redirect limit (${this.#maxRedirect}) exceeded at ${shown(url)} (${incoming.status})`, { status: incoming.status });
      }
      if (!URL.canParse(location, url.href)) throw new RemoteError(`${context}: unusable redirect Location from ${shown(url)}`, { status: incoming.status });
      const next = new URL(location, url);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new RemoteError(`${context}: redirect to a non-http(s) URL from ${shown(url)}`, { status: incoming.status });
      }
      // Signed CDN URLs reject a foreign bearer, and a token must never reach a host it was not issued for.
      if (next.protocol !== url.protocol || next.hostname !== url.hostname || next.port !== url.port) authorization = undefined;
      if ((incoming.status === 303 && method !== 'HEAD') || ((incoming.status === 301 || incoming.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        headers = withoutBodyHeaders(headers);
      } else if (body !== undefined && !Buffer.isBuffer(body)) {
        throw new RemoteError(`${context}: redirected (${incoming.status}) after a streamed body was sent; it cannot be replayed`, { status: incoming.status });
      }
      url = next;
    }
  }

  async #once(
    method: string,
    url: URL,
    headers: HeaderValues,
    authorization: string | undefined,
    body: Buffer | Readable | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Incoming> {
    const sent: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(headers)) sent[name] = typeof value === 'string' ? value : [...value];
    if (authorization !== undefined) sent.authorization = authorization;
    try {
      const response = await request(url, {
        dispatcher: this.#agent,
        method: method as 'GET',
        headers: sent,
        body: body ?? null,
        signal: signal ?? null,
      });
      return { status: response.statusCode, headers: response.headers, body: response.body, url };
    } catch (error) {
      // A streamed body undici did not finish reading must not stay open (its source would wait forever).
      if (body !== undefined && !Buffer.isBuffer(body)) discard(body);
      throw asRemoteError(error, `${method} ${shown(url)}`);
    }
  }

  /** Waits for requests in flight, then closes every connection. */
  close(): Promise<void> {
    return this.#agent.close();
  }

  /** Closes every connection now, failing requests in flight. */
  destroy(): Promise<void> {
    return this.#agent.destroy();
  }
}

/** A single header's value: the first when repeated. */
export function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function withoutBodyHeaders(headers: HeaderValues): HeaderValues {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name !== 'content-type' && name !== 'content-length' && name !== 'content-range'));
}
