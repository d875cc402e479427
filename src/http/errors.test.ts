import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERROR_CODES, OciError, UnmatchedError, UnsatisfiableRangeError } from '../oci/errors.ts';
import { REGISTRY_ERROR_KINDS, RegistryError, type RegistryErrorKind } from '../registry/errors.ts';
import { StorageUnavailableError } from '../storage/object-store.ts';
import { CODE_STATUS, errorAnswer } from './errors.ts';

test('every OCI error code has its usual status (docs/api.md, "Errors")', () => {
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
  assert.deepEqual(Object.entries(CODE_STATUS).sort(), expected.sort());
  assert.deepEqual(Object.keys(CODE_STATUS).sort(), [...ERROR_CODES].sort());
});

test('every registry error kind maps to one status, code and headers', () => {
  const table: Record<RegistryErrorKind, [number, string, Record<string, string>?]> = {
    'blob-unknown': [404, 'BLOB_UNKNOWN'],
    'blob-upload-unknown': [404, 'BLOB_UPLOAD_UNKNOWN'],
    'blob-too-large': [413, 'BLOB_UPLOAD_INVALID'],
    'digest-mismatch': [400, 'DIGEST_INVALID'],
    'size-mismatch': [416, 'SIZE_INVALID'],
    'manifest-unknown': [404, 'MANIFEST_UNKNOWN'],
    'manifest-invalid': [400, 'MANIFEST_INVALID'],
    'manifest-too-large': [413, 'MANIFEST_INVALID'],
    'manifest-blob-unknown': [404, 'MANIFEST_BLOB_UNKNOWN'],
    'immutable-tag': [409, 'DENIED'],
    'blob-still-referenced': [405, 'DENIED'],
    'replication-superseded': [409, 'REPLICATION_SUPERSEDED'],
    'reclamation-in-progress': [503, 'RECLAMATION_IN_PROGRESS', { 'retry-after': '1' }],
    'commit-vetoed': [500, 'INTERNAL_ERROR'],
  };
  assert.deepEqual(Object.keys(table).sort(), [...REGISTRY_ERROR_KINDS].sort());
  for (const kind of REGISTRY_ERROR_KINDS) {
    const [status, code, headers = {}] = table[kind];
    const answer = errorAnswer(new RegistryError(kind, `the ${kind} detail`), 'PUT');
    assert.deepEqual(
      answer,
      { status, code, headers, message: status < 500 || kind === 'commit-vetoed' ? `the ${kind} detail` : null },
      kind,
    );
  }
});

test('protocol errors keep their message below 500 and never above', () => {
  assert.deepEqual(errorAnswer(new OciError('MANIFEST_UNKNOWN'), 'GET'), { status: 404, code: 'MANIFEST_UNKNOWN', message: null, headers: {} });
  assert.equal(errorAnswer(new OciError('NAME_UNKNOWN', 'repository name not known'), 'GET').message, 'repository name not known');
  assert.equal(errorAnswer(new OciError('INTERNAL_ERROR', 'EACCES: /srv/registry/v2/blobs'), 'GET').message, null);
  assert.equal(errorAnswer(new OciError('PROVIDER_UNAVAILABLE', 'jwks fetch failed'), 'GET').message, null);
  assert.equal(errorAnswer(new RegistryError('reclamation-in-progress', 'blob sha256:… is being reclaimed'), 'PUT').message, null);
});

test('an unsatisfiable range names the size; unmatched requests depend on the method; storage outages ask to retry', () => {
  assert.deepEqual(errorAnswer(new UnsatisfiableRangeError(10), 'GET'), {
    status: 416,
    code: 'SIZE_INVALID',
    message: 'requested range not satisfiable',
    headers: { 'content-range': 'bytes */10' },
  });
  assert.equal(errorAnswer(new UnmatchedError('GET /v2/nope'), 'GET').code, 'NAME_UNKNOWN');
  assert.equal(errorAnswer(new UnmatchedError('GET /v2/nope'), 'HEAD').status, 404);
  assert.deepEqual(errorAnswer(new UnmatchedError('PUT /v2/nope'), 'PUT'), { status: 400, code: 'UNSUPPORTED', message: 'unsupported request', headers: {} });
  assert.deepEqual(errorAnswer(new StorageUnavailableError('breaker open', 2500), 'GET'), {
    status: 503,
    code: 'INTERNAL_ERROR',
    message: null,
    headers: { 'retry-after': '3' },
  });
  assert.deepEqual(errorAnswer(new Error('boom'), 'GET'), { status: 500, code: 'INTERNAL_ERROR', message: null, headers: {} });
});
