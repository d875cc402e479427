// A loopback HTTP proxy in front of an upstream registry: it records every request that reaches the upstream, can
// answer some requests itself (a poisoned body, an error status) and can go down and up again on the same port
// (connections refused meanwhile), so pull-through tests see exactly what the cache asks of its upstreams. It can
// also trickle a forwarded body, so a download (a worker's cache fill) lasts long enough to be interrupted.
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProxiedRequest {
  method: string;
  /** Path and query as received. */
  url: string;
}

/** What `answer` may send instead of forwarding: a status, headers and a body. */
export interface ProxyAnswer {
  status: number;
  headers?: Record<string, string | number>;
  body?: Buffer | string;
}

/** A forwarded body sent `chunkBytes` at a time, one slice every `intervalMs`. */
export interface Trickle {
  chunkBytes: number;
  intervalMs: number;
}

export interface UpstreamProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Every request received while up, in order. */
  readonly requests: ProxiedRequest[];
  /** Decides per request: an answer sent by the proxy, or undefined to forward to the upstream. */
  answer: ((req: IncomingMessage) => ProxyAnswer | undefined) | undefined;
  /** Decides per forwarded request: its response body trickled, or undefined for full speed. */
  throttle: ((req: IncomingMessage) => Trickle | undefined) | undefined;
  /** Requests whose method and path (without query) match. */
  count(method: string, pathPattern: RegExp): number;
  /** Stops listening and cuts open connections: the upstream is unreachable. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startUpstreamProxy(target: string): Promise<UpstreamProxy> {
  const upstream = new URL(target);
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  let server: Server;
  let port = 0;
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '' });
    const answer = proxy.answer?.(req);
    if (answer) {
      req.resume();
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body);
      return;
    }
    const trickle = proxy.throttle?.(req);
    const headers = { ...req.headers, host: upstream.host };
    const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (incoming) => {
      res.writeHead(incoming.statusCode ?? 502, incoming.headers);
      (trickle ? pipeline(incoming, slowly(trickle), res) : pipeline(incoming, res)).catch(() => res.destroy());
    });
    out.on('error', () => res.destroy());
    pipeline(req, out).catch(() => res.destroy());
  };
  const listen = async () => {
    server = createServer(handle);
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  };
  const stop = async () => {
    const closed = once(server, 'close');
    server.close();
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  await listen();
  const proxy: UpstreamProxy = {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer: undefined,
    throttle: undefined,
    count: (method, pattern) => requests.filter((r) => r.method === method && pattern.test(r.url.split('?')[0]!)).length,
    down: stop,
    up: listen,
    close: async () => {
      if (server.listening) await stop();
    },
  };
  return proxy;
}

/** A pipeline stage that passes bytes through `trickle.chunkBytes` at a time, pausing `trickle.intervalMs` after each slice. */
function slowly(trickle: Trickle) {
  return async function* (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      for (let at = 0; at < chunk.length; at += trickle.chunkBytes) {
        yield chunk.subarray(at, at + trickle.chunkBytes);
        await sleep(trickle.intervalMs);
      }
    }
  };
}
