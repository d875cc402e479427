// One GET over node:http / node:https, so that a provider's own agent (its CA bundle and client certificate)
// carries the request, which `fetch` cannot do. It keeps what `fetch` gave the OIDC fetches before: redirects are
// followed (at most 20), `Authorization` is dropped for good once a hop leaves the origin it was meant for, and
// one deadline bounds the whole exchange, every hop and the body included.
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import { addAbortSignal } from 'node:stream';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;

export interface GetOptions {
  readonly headers: Readonly<Record<string, string>>;
  /** Sent while the request stays on the origin of the first URL. */
  readonly authorization: string | undefined;
  /** Carries every https: hop; http: hops use Node's global agent. */
  readonly tlsAgent: HttpsAgent;
  readonly timeoutSecs: number;
  /** A larger body is an error rather than a memory exhaustion. */
  readonly maxBodyBytes: number;
}

export interface GetAnswer {
  /** The last URL, after redirects. */
  readonly url: string;
  readonly status: number;
  readonly body: string;
}

/** The final answer, whatever its status. Throws on transport and TLS errors, a bad redirect, the deadline. */
export async function httpGet(url: string, options: GetOptions): Promise<GetAnswer> {
  const signal = AbortSignal.timeout(options.timeoutSecs * 1000);
  let target = new URL(url);
  let authorization = options.authorization;
  try {
    for (let redirects = 0; ; redirects++) {
      const headers: OutgoingHttpHeaders = { ...options.headers, ...(authorization === undefined ? {} : { authorization }) };
      const response = await send(target, headers, options.tlsAgent, signal);
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (!REDIRECT_STATUSES.has(status) || location === undefined) {
        return { url: target.href, status, body: await readBody(response, options.maxBodyBytes, signal) };
      }
      // Drained so the keep-alive connection can serve the next hop.
      response.resume();
      if (redirects === MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
      const next = URL.parse(location, target.href);
      if (next === null || (next.protocol !== 'http:' && next.protocol !== 'https:')) {
        throw new Error(`redirected to an unusable location ${JSON.stringify(location)}`);
      }
      if (next.origin !== target.origin) authorization = undefined;
      target = next;
    }
  } catch (error) {
    if (signal.aborted) throw new Error(`no answer within ${options.timeoutSecs} s`);
    throw error;
  }
}

async function send(url: URL, headers: OutgoingHttpHeaders, tlsAgent: HttpsAgent, signal: AbortSignal): Promise<IncomingMessage> {
  const request = url.protocol === 'https:' ? httpsRequest(url, { headers, agent: tlsAgent, signal }) : httpRequest(url, { headers, signal });
  // Errors are reported through `once` below; this keeps a late one (after the deadline) from being unhandled.
  request.on('error', () => {});
  request.end();
  const [response] = (await once(request, 'response', { signal })) as [IncomingMessage];
  return response;
}

async function readBody(response: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<string> {
  addAbortSignal(signal, response);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new Error(`the body is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  // TextDecoder drops a byte-order mark, as `fetch`'s text() did, so such a document still parses.
  return new TextDecoder().decode(Buffer.concat(chunks));
}
