import type { IncomingMessage, ServerResponse } from 'node:http';
import { httpRequestDurationMs, httpRequestsInFlight, httpRequestsTotal } from '../observability/metrics.ts';

/**
 * Counts a request once its response head exists, with the time it took to get there. `route` is read when the
 * head is written, so the caller can set it once the request is matched (`unknown` until then).
 */
export function trackRequest(req: IncomingMessage, res: ServerResponse): { route: string } {
  const started = performance.now();
  const label = { route: 'unknown' };
  const method = req.method ?? 'UNKNOWN';
  httpRequestsInFlight.inc();
  res.once('close', () => httpRequestsInFlight.dec());
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: Parameters<typeof writeHead>) {
    httpRequestsTotal.inc({ method, route: label.route, status: String(args[0]) });
    httpRequestDurationMs.observe({ method, route: label.route }, performance.now() - started);
    return writeHead.apply(this, args);
  } as typeof writeHead;
  return label;
}
