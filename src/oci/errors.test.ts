import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_STATUS, OciError, UnmatchedError } from './errors.ts';

test('every error code of chapter 01 §12 has its usual status', () => {
  const codesByStatus: Record<number, string[]> = {
    400: ['DIGEST_INVALID', 'MANIFEST_INVALID', 'NAME_INVALID', 'UNSUPPORTED'],
    401: ['UNAUTHORIZED'],
    403: ['DENIED'],
    404: ['BLOB_UNKNOWN', 'BLOB_UPLOAD_UNKNOWN', 'MANIFEST_BLOB_UNKNOWN', 'MANIFEST_UNKNOWN', 'NAME_UNKNOWN'],
    409: ['REPLICATION_SUPERSEDED'],
    413: ['BLOB_UPLOAD_INVALID'],
    416: ['SIZE_INVALID'],
    429: ['TOOMANYREQUESTS'],
    500: ['INTERNAL_ERROR'],
    503: ['PROVIDER_UNAVAILABLE', 'RECLAMATION_IN_PROGRESS'],
  };
  const expected = Object.entries(codesByStatus).flatMap(([status, codes]) => codes.map((code) => [code, Number(status)]));
  assert.deepEqual(Object.entries(ERROR_STATUS).sort(), expected.sort());
});

test('an OciError takes the usual status unless one of its alternatives is given', () => {
  const error = new OciError('BLOB_UNKNOWN', 'blob unknown to registry');
  assert.ok(error instanceof Error);
  assert.equal(error.code, 'BLOB_UNKNOWN');
  assert.equal(error.status, 404);
  assert.deepEqual(error.headers, {});
  const referenced = new OciError('DENIED', 'blob is referenced by a manifest', { status: 405 });
  assert.equal(referenced.status, 405);
  const busy = new OciError('RECLAMATION_IN_PROGRESS', undefined, { headers: { 'retry-after': '1' } });
  assert.deepEqual(busy.headers, { 'retry-after': '1' });
});

test('client-facing messages are null without a message and for every 5xx', () => {
  assert.equal(new OciError('MANIFEST_UNKNOWN').publicMessage, null);
  assert.equal(new OciError('NAME_UNKNOWN', 'repository name not known').publicMessage, 'repository name not known');
  assert.equal(new OciError('INTERNAL_ERROR', 'EACCES: /srv/registry/v2/blobs').publicMessage, null);
  assert.equal(new OciError('PROVIDER_UNAVAILABLE', 'jwks fetch failed').publicMessage, null);
  assert.equal(new OciError('MANIFEST_INVALID', 'too large', { status: 413 }).publicMessage, 'too large');
});

test('an unmatched request is its own error type, not an OciError', () => {
  const error = new UnmatchedError('GET /v2/nope');
  assert.ok(error instanceof Error);
  assert.ok(!(error instanceof OciError));
  assert.equal(error.name, 'UnmatchedError');
});
