import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { logger } from '../observability/logging.ts';
import { httpRequestDurationMs, httpRequestsInFlight, httpRequestsTotal } from '../observability/metrics.ts';
import type { Actor } from '../registry/events.ts';

const log = logger('angos::http::access');

/** What the handling of a request learns that its metrics and access line report; filled in as it goes. */
export interface TrackedRequest {
  /** The action name once the request is matched (`unknown` until then). */
  route: string;
  /** The caller once authenticated. */
  actor?: Actor;
  /** The fault behind a 5xx answer (or behind a response cut short after its head). */
  failure?: unknown;
}

let inFlight = 0;
let lastActivityMs = Number.NEGATIVE_INFINITY;

/**
 * Whether requests are being served: one is in flight, or one began or ended within `withinMs`. Background work
 * yields while this holds; the grace covers the gaps between the requests of a steady load.
 */
export function serving(withinMs: number): boolean {
  return inFlight > 0 || performance.now() - lastActivityMs < withinMs;
}

/**
 * Counts a request once its response head exists, with the time it took to get there, and writes one access line
 * when the response closes (docs/operations.md, "Logs"): info, or error with the fault for a 5xx.
 */
export function trackRequest(req: IncomingMessage, res: ServerResponse): TrackedRequest {
  const started = performance.now();
  const tracked: TrackedRequest = { route: 'unknown' };
  const method = req.method ?? 'UNKNOWN';
  const socket = req.socket;
  // The socket's byte count walks its pending writes: read only when info lines are written at all.
  const bytesBefore = log.enabled('info') ? socket.bytesWritten : undefined;
  httpRequestsInFlight.inc();
  inFlight++;
  lastActivityMs = started;
  res.once('close', () => {
    httpRequestsInFlight.dec();
    inFlight--;
    lastActivityMs = performance.now();
    const bytes = bytesBefore === undefined ? Number(res.getHeader('content-length') ?? 0) : socket.bytesWritten - bytesBefore;
    logAccess(req, res, tracked, performance.now() - started, bytes);
  });
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: Parameters<typeof writeHead>) {
    httpRequestsTotal.inc({ method, route: tracked.route, status: String(args[0]) });
    httpRequestDurationMs.observe({ method, route: tracked.route }, performance.now() - started);
    return writeHead.apply(this, args);
  } as typeof writeHead;
  return tracked;
}

/** `<ms> - <code reason> <METHOD> <path>`, with the same facts (and who asked) as fields. */
function logAccess(req: IncomingMessage, res: ServerResponse, tracked: TrackedRequest, durationMs: number, bytes: number): void {
  // A response that never got a head was abandoned by its client; 0 says so.
  const status = res.headersSent ? res.statusCode : 0;
  const level = status >= 500 || tracked.failure !== undefined ? 'error' : 'info';
  if (!log.enabled(level)) return;
  const method = req.method ?? 'UNKNOWN';
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  const ms = Math.round(durationMs);
  const reason = status === 0 ? 'Client Closed Request' : (STATUS_CODES[status] ?? '');
  const { actor } = tracked;
  const fields: Record<string, unknown> = {
    method,
    path,
    status,
    bytes,
    duration_ms: ms,
    identity: actor?.username ?? actor?.id ?? null,
    client_ip: actor?.clientIp ?? req.socket.remoteAddress ?? null,
  };
  // Name, message, code and causes (src/observability/log-fields.ts): enough to act on, no stack.
  if (tracked.failure !== undefined) fields.error = tracked.failure;
  log[level](`${ms} - ${status} ${reason} ${method} ${path}`, fields);
}
