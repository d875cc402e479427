import { Agent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface SendOptions {
  headers?: OutgoingHttpHeaders;
  /** A small body sent whole, or a byte stream piped with backpressure (give `content-length` in headers). */
  body?: Buffer | string | AsyncIterable<Buffer>;
}

/**
 * A request that never answers must fail the run with its name rather than hang it: every request is bounded by
 * this socket inactivity limit (not a throughput measure, so it does not bias any figure).
 */
const IDLE_TIMEOUT_MS = 120_000;

/**
 * HTTP/1.1 keep-alive client for one target on 127.0.0.1: a single agent whose pooled sockets are reused across
 * requests, as a real client would, so connection set-up never shows up in the figures.
 */
export class HttpClient {
  readonly baseUrl: URL;
  readonly #agent: Agent;

  constructor(baseUrl: string, maxSockets: number) {
    this.baseUrl = new URL(baseUrl);
    if (this.baseUrl.hostname !== '127.0.0.1') throw new Error(`benchmark traffic stays on 127.0.0.1, not ${baseUrl}`);
    this.#agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' });
  }

  /** Sends a request and collects the (small) response body. */
  async send(method: string, path: string, options: SendOptions = {}): Promise<Reply> {
    const res = await this.#start(method, path, options);
    const parts: Buffer[] = [];
    for await (const chunk of res) parts.push(chunk as Buffer);
    return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) };
  }

  /** Sends a request and counts the response bytes without keeping or copying them. */
  async drain(method: string, path: string, headers: OutgoingHttpHeaders = {}): Promise<{ status: number; bytes: number }> {
    const res = await this.#start(method, path, { headers });
    let bytes = 0;
    res.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    await new Promise<void>((done, fail) => {
      res.once('end', done);
      res.once('error', fail);
      res.once('aborted', () => fail(new Error(`${method} ${path}: response aborted after ${bytes} bytes`)));
    });
    return { status: res.statusCode ?? 0, bytes };
  }

  /** A `Location` header (absolute, as Distribution sends it, or a path) as the path+query to request next. */
  pathOf(location: string | undefined, what: string): string {
    if (location === undefined) throw new Error(`${what}: response has no Location header`);
    const url = new URL(location, this.baseUrl);
    return url.pathname + url.search;
  }

  close(): void {
    this.#agent.destroy();
  }

  #start(method: string, path: string, options: SendOptions): Promise<IncomingMessage> {
    const headers: OutgoingHttpHeaders = { ...options.headers };
    const body = options.body;
    if ((typeof body === 'string' || Buffer.isBuffer(body)) && headers['content-length'] === undefined) {
      headers['content-length'] = Buffer.byteLength(body);
    }
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: this.baseUrl.hostname, port: this.baseUrl.port, method, path, headers, agent: this.#agent },
        resolve,
      );
      req.once('error', (error) => reject(new Error(`${method} ${path}: ${error.message}`)));
      req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error(`idle for ${IDLE_TIMEOUT_MS} ms`)));
      if (body === undefined) req.end();
      else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
      else pipeline(Readable.from(body, { objectMode: false }), req).catch((error: Error) => req.destroy(error));
    });
  }
}

/** Throws with the response body (an OCI error, usually) unless the status is the expected one. */
export function expectStatus(reply: { status: number; body?: Buffer }, expected: number, what: string): void {
  if (reply.status === expected) return;
  const detail = reply.body === undefined ? '' : `: ${reply.body.toString('utf8', 0, 500)}`;
  throw new Error(`${what}: expected HTTP ${expected}, got ${reply.status}${detail}`);
}
