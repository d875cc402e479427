import { Agent, request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

export interface HttpResponse {
  status: number;
  /** Lower-cased header names; repeated headers joined as node does. */
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface RequestOptions {
  method?: string;
  headers?: OutgoingHttpHeaders;
  /** Sent with a `Content-Length` matching its size unless `headers` sets one. */
  body?: Buffer | string;
  /** Sent with `Transfer-Encoding: chunked` and no `Content-Length`, one HTTP chunk per element. */
  chunks?: Array<Buffer | string>;
}

/** Bodies go out in slices so an early answer (413, 400...) is seen before the server closes the socket. */
const SLICE = 64 * 1024;
const HANG_MS = 60_000;

/**
 * One request over a fresh loopback connection. `path` goes on the wire untouched (no normalization of `//`,
 * `..` or percent-escapes), which `fetch` cannot promise.
 */
export function request(baseUrl: string, path: string, options: RequestOptions = {}): Promise<HttpResponse> {
  const url = new URL(baseUrl);
  const headers: OutgoingHttpHeaders = { ...options.headers };
  const hasLength = Object.keys(headers).some((name) => name.toLowerCase() === 'content-length');
  if (options.body !== undefined && !hasLength) headers['content-length'] = Buffer.byteLength(options.body);

  return new Promise((resolve, reject) => {
    let answered = false;
    let finished = false;
    // A fresh keep-alive agent per request: its own socket, so a server that closes after an error response
    // cannot break the next request, and keep-alive as real clients send it (a server then drains an unread
    // body instead of resetting the connection under the client).
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const req = httpRequest(
      { host: url.hostname, port: url.port, method: options.method ?? 'GET', path, headers, agent },
      (res) => {
        answered = true;
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          finished = true;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) });
          agent.destroy();
        });
      },
    );
    // A server may answer before reading the whole body and close; that answer is what we test, like curl
    // which also reads the response while still sending.
    req.on('error', (error) => {
      agent.destroy();
      if (!answered && !finished) reject(error);
    });
    // Not a timing assertion: a registry that never answers should fail with a message naming the request
    // instead of stalling the file until the runner's timeout.
    req.setTimeout(HANG_MS, () => req.destroy(new Error(`no response to ${options.method ?? 'GET'} ${path} within ${HANG_MS} ms`)));
    void writeBody(req, options, () => answered || req.destroyed);
  });
}

async function writeBody(req: ClientRequest, options: RequestOptions, stop: () => boolean): Promise<void> {
  const pieces = options.chunks ?? (options.body === undefined ? [] : [options.body]);
  for (const piece of pieces) {
    const bytes = Buffer.from(piece);
    if (bytes.length <= SLICE) {
      if (!stop()) req.write(bytes);
      continue;
    }
    for (let offset = 0; offset < bytes.length && !stop(); offset += SLICE) {
      const flushed = req.write(bytes.subarray(offset, offset + SLICE));
      // Yield to the event loop between slices so a response that arrived is read before the next write.
      if (flushed) await new Promise<void>((done) => setImmediate(done));
      else await drained(req);
    }
  }
  if (!stop()) req.end();
}

function drained(req: ClientRequest): Promise<void> {
  return new Promise((done) => {
    const finish = (): void => {
      req.off('drain', finish).off('close', finish).off('response', finish);
      done();
    };
    req.on('drain', finish).on('close', finish).on('response', finish);
  });
}

/** Shorthand for the many requests that only need a method. */
export function send(baseUrl: string, method: string, path: string, options: RequestOptions = {}): Promise<HttpResponse> {
  return request(baseUrl, path, { ...options, method });
}

/** The parsed JSON body of a response; fails loudly when it is not JSON. */
export function jsonBody(response: HttpResponse): unknown {
  const text = response.body.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`expected a JSON body, got ${response.status} ${JSON.stringify(text.slice(0, 200))}`);
  }
}

/** The media type of a `Content-Type` header without its parameters. */
export function mediaTypeOf(response: HttpResponse): string | undefined {
  return response.headers['content-type']?.split(';')[0]?.trim();
}

/**
 * Writes bytes verbatim to a fresh TCP connection and reads until the server closes it. For requests no HTTP
 * client will send: malformed framing, oversized or non-ASCII header values. Include `Connection: close`.
 */
export function rawRequest(baseUrl: string, bytes: Buffer | string): Promise<HttpResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    socket.setTimeout(HANG_MS, () => socket.destroy(new Error(`no answer to a raw request within ${HANG_MS} ms`)));
    const parts: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => parts.push(chunk));
    socket.on('error', (error) => {
      if (parts.length === 0) reject(error);
    });
    socket.on('close', () => {
      try {
        resolve(parseRawResponse(Buffer.concat(parts)));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.end(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  });
}

function parseRawResponse(raw: Buffer): HttpResponse {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd < 0) throw new Error(`incomplete HTTP response: ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`);
  const [statusLine = '', ...headerLines] = raw.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!status) throw new Error(`bad status line: ${JSON.stringify(statusLine)}`);
  const headers: IncomingHttpHeaders = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = raw.subarray(headEnd + 4);
  const body = headers['transfer-encoding'] === 'chunked' ? decodeChunked(rest) : rest;
  return { status: Number(status[1]), headers, body };
}

function decodeChunked(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd < 0) break;
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
