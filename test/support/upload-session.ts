import assert from 'node:assert/strict';
import { send, type HttpResponse } from './http.ts';
import { header } from './expect.ts';

// Upload steps the e2e helpers in registry.ts leave to each test, shared by the multi-process tests.

/** The committed size an upload `Range: 0-<last>` header reports. */
export function committedSize(response: HttpResponse): number {
  const range = header(response, 'range');
  const match = range === undefined ? null : /^0-(\d+)$/.exec(range);
  assert.ok(match, `Range header '${range}' is not 0-<n> (status ${response.status})`);
  const last = Number(match[1]);
  // `0-0` stands for both "empty" and "one byte"; the sessions these tests resume never hold exactly one byte.
  return last === 0 ? 0 : last + 1;
}

/** `PUT <session>?digest=` with an optional final chunk (no body = empty chunk). */
export function completeUpload(baseUrl: string, location: string, digest: string, finalChunk: Buffer = Buffer.alloc(0)): Promise<HttpResponse> {
  const separator = location.includes('?') ? '&' : '?';
  return send(baseUrl, 'PUT', `${location}${separator}digest=${digest}`, {
    headers: { 'content-type': 'application/octet-stream' },
    body: finalChunk,
  });
}
