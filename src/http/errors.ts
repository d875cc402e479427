import type { IncomingMessage, ServerResponse } from 'node:http';
import { OciError, UnmatchedError } from '../oci/errors.ts';
import { StorageUnavailableError } from '../storage/object-store.ts';
import type { Logger } from '../observability/logging.ts';
import { BASIC_CHALLENGE } from '../auth/token-service/challenge.ts';

/**
 * The one translation of any thrown value into an OCI error response (chapter 01 §12). `challenge` is the
 * request's `WWW-Authenticate` value for a 401 (`authChallenge`).
 */
export function sendError(req: IncomingMessage, res: ServerResponse, err: unknown, log: Logger, challenge = BASIC_CHALLENGE): void {
  if (!req.socket || req.socket.destroyed) {
    // The client went away mid-request (aborted upload, closed download): nothing to answer, nothing broken.
    log.debug('client disconnected', { method: req.method, url: req.url, error: describe(err) });
    return;
  }
  const error = toOciError(req, err);
  if (error.status >= 500) {
    log.error('request failed', { method: req.method, url: req.url, error: describe(err) });
  }
  if (res.headersSent) {
    // Too late for a status: cut the connection so the client sees a truncated body, not a complete one.
    res.destroy();
    return;
  }
  const headers: Record<string, string> = { 'content-type': 'application/json', ...error.headers };
  if (error.code === 'UNAUTHORIZED' && !headers['www-authenticate']) headers['www-authenticate'] = challenge;
  let body: Buffer;
  try {
    body = Buffer.from(JSON.stringify({ errors: [{ code: error.code, message: error.publicMessage }] }));
  } catch {
    res.writeHead(500, { 'content-type': 'text/plain', 'content-length': 21 });
    res.end('Internal Server Error');
    return;
  }
  res.writeHead(error.status, { ...headers, 'content-length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function toOciError(req: IncomingMessage, err: unknown): OciError {
  if (err instanceof OciError) return err;
  if (err instanceof UnmatchedError) {
    return req.method === 'GET' || req.method === 'HEAD'
      ? new OciError('NAME_UNKNOWN', 'no such route or invalid name')
      : new OciError('UNSUPPORTED', 'unsupported request');
  }
  if (err instanceof StorageUnavailableError) {
    return new OciError('INTERNAL_ERROR', undefined, { status: 503, headers: { 'retry-after': String(err.retryAfterSecs) } });
  }
  return new OciError('INTERNAL_ERROR');
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
