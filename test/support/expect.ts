import assert from 'node:assert/strict';
import { jsonBody, mediaTypeOf, request, type HttpResponse } from './http.ts';
import { UUID_V4 } from './oci.ts';

export const BASIC_CHALLENGE = 'Basic realm="Angos", charset="UTF-8"';

function describeResponse(response: HttpResponse): string {
  return `${response.status} ${JSON.stringify(response.headers)} ${response.body.toString('utf8').slice(0, 300)}`;
}

export function expectStatus(response: HttpResponse, status: number): void {
  assert.equal(response.status, status, `expected ${status}, got ${describeResponse(response)}`);
}

/**
 * An OCI error exactly as docs/api.md, "Errors" shapes it: one entry with `code`, `message` (string or null) and an
 * optional `detail`, served as `application/json`; for HEAD no body at all.
 */
export function expectError(response: HttpResponse, status: number, code: string, options: { head?: boolean } = {}): void {
  expectStatus(response, status);
  if (options.head) {
    assert.equal(response.body.length, 0, 'HEAD error responses have no body');
    return;
  }
  assert.equal(mediaTypeOf(response), 'application/json', `error Content-Type in ${describeResponse(response)}`);
  const body = jsonBody(response) as { errors?: unknown };
  assert.deepEqual(Object.keys(body), ['errors'], `error body keys in ${describeResponse(response)}`);
  assert.ok(Array.isArray(body.errors) && body.errors.length === 1, 'exactly one error entry');
  const entry = body.errors[0] as Record<string, unknown>;
  assert.equal(entry.code, code, `error code in ${describeResponse(response)}`);
  assert.ok('message' in entry, 'message is always present');
  assert.ok(entry.message === null || typeof entry.message === 'string', 'message is a string or null');
  for (const key of Object.keys(entry)) assert.ok(['code', 'message', 'detail'].includes(key), `unexpected error field ${key}`);
  if ('detail' in entry) assert.equal(typeof entry.detail, 'object', 'detail is an object');
  if (status >= 500) assert.equal(entry.message, null, '5xx bodies never carry internal text');
}

/** The `message` of an OCI error body (after `expectError`). */
export function errorMessage(response: HttpResponse): unknown {
  const body = jsonBody(response) as { errors: Array<{ message: unknown }> };
  return body.errors[0]?.message;
}

/** A body-less answer: the status, `Content-Length: 0` and no bytes. */
export function expectEmpty(response: HttpResponse, status: number): void {
  expectStatus(response, status);
  assert.equal(response.headers['content-length'], '0', `Content-Length: 0 on ${describeResponse(response)}`);
  assert.equal(response.body.length, 0);
}

export function expectChallenge(response: HttpResponse, options: { head?: boolean } = {}): void {
  expectError(response, 401, 'UNAUTHORIZED', options);
  assert.equal(response.headers['www-authenticate'], BASIC_CHALLENGE);
}

/** After a hostile request the process must still answer the API root. */
export async function expectAlive(baseUrl: string): Promise<void> {
  const response = await request(baseUrl, '/v2/');
  expectStatus(response, 200);
}

export function header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * `Link: <url>; rel="next"` pointing at `path` with exactly the `query` parameters once form-decoded (so
 * `b/two` and `b%2Ftwo` are the same value, a raw `+` is not). Returns the URL for the next request.
 */
export function expectNextLink(response: HttpResponse, path: string, query: Array<[string, string]>): string {
  const link = header(response, 'link') ?? '';
  const match = /^<([^>]+)>; rel="next"$/.exec(link);
  assert.ok(match?.[1], `Link header: ${JSON.stringify(link)}`);
  const target = match[1];
  const questionMark = target.indexOf('?');
  assert.equal(questionMark < 0 ? target : target.slice(0, questionMark), path, `Link path in ${link}`);
  assert.deepEqual([...new URLSearchParams(questionMark < 0 ? '' : target.slice(questionMark + 1))], query, `Link query in ${link}`);
  return target;
}

/** 201 of an upload endpoint (single-request, PUT, mount): empty, with the blob's Location and digest. */
export function expectBlobCreated(response: HttpResponse, name: string, digest: string): void {
  expectEmpty(response, 201);
  assert.equal(header(response, 'location'), `/v2/${name}/blobs/${digest}`);
  assert.equal(header(response, 'docker-content-digest'), digest);
}

/** 202 of a new upload session: `Location`, matching `Docker-Upload-UUID`, `Range: 0-0`. Returns the Location. */
export function expectNewSession(response: HttpResponse, name: string): string {
  expectEmpty(response, 202);
  const location = header(response, 'location') ?? '';
  const prefix = `/v2/${name}/blobs/uploads/`;
  assert.ok(location.startsWith(prefix), `Location ${location}`);
  const id = location.slice(prefix.length);
  assert.match(id, UUID_V4, 'a lower-case v4 UUID');
  assert.equal(header(response, 'docker-upload-uuid'), id);
  assert.equal(header(response, 'range'), '0-0');
  assert.equal(header(response, 'oci-chunk-min-length'), undefined, 'no minimum chunk length is announced');
  return location;
}

/** 200 carrying exactly `bytes`. */
export function expectBody(response: HttpResponse, bytes: Buffer): void {
  expectStatus(response, 200);
  assert.deepEqual(response.body, bytes);
}
