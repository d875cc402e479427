import { encodeRequest, RawConnection } from './raw-connection.ts';

export interface LoadRequest {
  method: 'GET' | 'HEAD';
  path: string;
  headers?: Record<string, string>;
  /** The status every answer must have: a registry answering errors fast must not look fast. */
  status: number;
}

export interface LoadOptions {
  connections: number;
  seconds: number;
  /** A cap on the requests of one measurement, so even a broken clock cannot make a loop run forever. */
  maxRequests: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  /** Mean time of one request as its connection saw it. */
  meanMs: number;
}

/**
 * Requests per second with `connections` concurrent keep-alive loops, each sending its next request as soon as
 * the previous answer is read (closed loop, like autocannon). Bounded by time and by count.
 */
export async function measureRate(baseUrl: URL, request: LoadRequest, options: LoadOptions): Promise<LoadResult> {
  const port = Number(baseUrl.port);
  const encoded = encodeRequest(request.method, baseUrl.host, request.path, request.headers ?? {});
  const connections = await Promise.all(Array.from({ length: options.connections }, () => RawConnection.open(baseUrl.hostname, port)));
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  let issued = 0;
  let busyMs = 0;
  const loop = async (index: number): Promise<void> => {
    while (issued < options.maxRequests && performance.now() < deadline) {
      issued += 1;
      const sent = performance.now();
      const head = await connections[index]!.send(request.method, encoded);
      busyMs += performance.now() - sent;
      if (head.status !== request.status) {
        throw new Error(`${request.method} ${request.path}: expected HTTP ${request.status}, got ${head.status}`);
      }
      if (head.close || !connections[index]!.usable) {
        connections[index]!.close();
        connections[index] = await RawConnection.open(baseUrl.hostname, port);
      }
    }
  };
  try {
    await Promise.all(connections.map((_, index) => loop(index)));
  } finally {
    for (const connection of connections) connection.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return { requests: issued, seconds, perSecond: issued / seconds, meanMs: busyMs / issued };
}

/** Runs `task(i)` for i in [0, count) with at most `parallel` in flight; the first failure stops the rest. */
export async function forEachLimited(count: number, parallel: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < count) {
      const index = next++;
      try {
        await task(index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
}
