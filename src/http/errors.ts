import type { IncomingMessage, ServerResponse } from 'node:http';
import { OciError, UnmatchedError, UnsatisfiableRangeError, type ErrorCode } from '../oci/errors.ts';
import { RegistryError, type RegistryErrorKind } from '../registry/errors.ts';
import { StorageUnavailableError } from '../storage/object-store.ts';
import { logger } from '../observability/logging.ts';
import type { TrackedRequest } from './request-tracking.ts';
import { BASIC_CHALLENGE } from '../auth/token-service/challenge.ts';

const log = logger('angos::http::errors');

/** What the client is told: status, OCI code, message (null hides it) and extra headers. */
export interface ErrorAnswer {
  status: number;
  code: ErrorCode;
  message: string | null;
  headers: Record<string, string>;
}

/** The usual status of each OCI code (docs/api.md, "Errors"). */
export const CODE_STATUS: Readonly<Record<ErrorCode, number>> = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 413,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 404,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 416,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 400,
  TOOMANYREQUESTS: 429,
  REPLICATION_SUPERSEDED: 409,
  INTERNAL_ERROR: 500,
  PROVIDER_UNAVAILABLE: 503,
  RECLAMATION_IN_PROGRESS: 503,
};

interface DomainAnswer {
  status: number;
  code: ErrorCode;
  headers?: Record<string, string>;
  /** A 5xx whose message the client should still see (a veto names the webhook that refused). */
  showMessage?: true;
}

/** Every registry error kind, answered. The `Record` type makes a new kind without an answer a type error. */
export const REGISTRY_ANSWERS: Readonly<Record<RegistryErrorKind, DomainAnswer>> = {
  'blob-unknown': { status: 404, code: 'BLOB_UNKNOWN' },
  'blob-upload-unknown': { status: 404, code: 'BLOB_UPLOAD_UNKNOWN' },
  'blob-too-large': { status: 413, code: 'BLOB_UPLOAD_INVALID' },
  'digest-mismatch': { status: 400, code: 'DIGEST_INVALID' },
  'size-mismatch': { status: 416, code: 'SIZE_INVALID' },
  'manifest-unknown': { status: 404, code: 'MANIFEST_UNKNOWN' },
  'manifest-invalid': { status: 400, code: 'MANIFEST_INVALID' },
  'manifest-too-large': { status: 413, code: 'MANIFEST_INVALID' },
  'manifest-blob-unknown': { status: 404, code: 'MANIFEST_BLOB_UNKNOWN' },
  'immutable-tag': { status: 409, code: 'DENIED' },
  'blob-still-referenced': { status: 405, code: 'DENIED' },
  'replication-superseded': { status: 409, code: 'REPLICATION_SUPERSEDED' },
  'reclamation-in-progress': { status: 503, code: 'RECLAMATION_IN_PROGRESS', headers: { 'retry-after': '1' } },
  'commit-vetoed': { status: 500, code: 'INTERNAL_ERROR', showMessage: true },
};

/**
 * The one translation of any thrown value into what the client is told. 5xx answers carry no message (internal
 * text stays in the logs), except a veto, whose message is the refusal the operator configured.
 */
export function errorAnswer(err: unknown, method: string | undefined): ErrorAnswer {
  if (err instanceof RegistryError) {
    const answer = REGISTRY_ANSWERS[err.kind];
    const shown = answer.status < 500 || answer.showMessage === true;
    return { status: answer.status, code: answer.code, message: shown ? err.message : null, headers: { ...answer.headers } };
  }
  if (err instanceof UnsatisfiableRangeError) {
    return { status: 416, code: err.code, message: err.message, headers: { 'content-range': `bytes */${err.size}` } };
  }
  if (err instanceof OciError) {
    const status = CODE_STATUS[err.code];
    return { status, code: err.code, message: status < 500 && err.hasMessage ? err.message : null, headers: {} };
  }
  if (err instanceof UnmatchedError) {
    return method === 'GET' || method === 'HEAD'
      ? { status: 404, code: 'NAME_UNKNOWN', message: 'no such route or invalid name', headers: {} }
      : { status: 400, code: 'UNSUPPORTED', message: 'unsupported request', headers: {} };
  }
  if (err instanceof StorageUnavailableError) {
    return { status: 503, code: 'INTERNAL_ERROR', message: null, headers: { 'retry-after': String(err.retryAfterSecs) } };
  }
  return { status: 500, code: 'INTERNAL_ERROR', message: null, headers: {} };
}

/**
 * Answers a failed request. A 5xx is recorded on `tracked` for the request's access line, which then reports it
 * at error level. `challenge` is the request's `WWW-Authenticate` value for a 401 (`authChallenge`).
 */
export function sendError(req: IncomingMessage, res: ServerResponse, err: unknown, tracked: TrackedRequest, challenge = BASIC_CHALLENGE): void {
  if (!req.socket || req.socket.destroyed) {
    // The client went away mid-request (aborted upload, closed download): nothing to answer, nothing broken.
    log.debug('client disconnected', { method: req.method, url: req.url, error: describe(err) });
    return;
  }
  const answer = errorAnswer(err, req.method);
  if (answer.status >= 500) tracked.failure = err;
  if (res.headersSent) {
    // Too late for a status: cut the connection so the client sees a truncated body, not a complete one.
    tracked.failure = err;
    res.destroy();
    return;
  }
  const headers: Record<string, string> = { 'content-type': 'application/json', ...answer.headers };
  if (answer.code === 'UNAUTHORIZED' && !headers['www-authenticate']) headers['www-authenticate'] = challenge;
  let body: Buffer;
  try {
    body = Buffer.from(JSON.stringify({ errors: [{ code: answer.code, message: answer.message }] }));
  } catch {
    res.writeHead(500, { 'content-type': 'text/plain', 'content-length': 21 });
    res.end('Internal Server Error');
    return;
  }
  res.writeHead(answer.status, { ...headers, 'content-length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
