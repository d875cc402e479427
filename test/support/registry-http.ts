import assert from 'node:assert/strict';
import { sha256Digest } from './digests.ts';

/** What pulling clients send: the registry must answer with the stored bytes whatever it is. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

/** A response with its whole body read (only for small bodies: manifests, errors, listings). */
export interface ReadResponse {
  status: number;
  headers: Headers;
  body: Buffer;
  /** For error messages: method, URL, status and body. */
  describe: string;
}

export async function send(method: string, url: string, init: { headers?: Record<string, string>; body?: Uint8Array } = {}): Promise<ReadResponse> {
  const response = await fetch(url, { method, headers: init.headers, body: init.body, redirect: 'manual' });
  const body = Buffer.from(await response.arrayBuffer());
  return {
    status: response.status,
    headers: response.headers,
    body,
    describe: `${method} ${url} -> ${response.status} ${body.toString('utf8').slice(0, 500)}`,
  };
}

export function getManifest(baseUrl: string, name: string, reference: string, method = 'GET'): Promise<ReadResponse> {
  return send(method, `${baseUrl}/v2/${name}/manifests/${reference}`, { headers: { accept: MANIFEST_ACCEPT } });
}

export function putManifest(baseUrl: string, name: string, reference: string, body: Uint8Array, mediaType: string): Promise<ReadResponse> {
  return send('PUT', `${baseUrl}/v2/${name}/manifests/${reference}`, { headers: { 'content-type': mediaType }, body });
}

/** The OCI error code of an error response (chapter 01 §12: one entry). */
export function errorCode(response: ReadResponse): string | undefined {
  const parsed = JSON.parse(response.body.toString('utf8')) as { errors?: Array<{ code?: string }> };
  return parsed.errors?.[0]?.code;
}

/** Asserts a status and, for errors, the OCI code, printing the exchange when they differ. */
export function assertStatus(response: ReadResponse, status: number, code?: string): void {
  assert.equal(response.status, status, response.describe);
  if (code !== undefined) assert.equal(errorCode(response), code, response.describe);
}

/** Absolute upload-session URL from a `Location` that may be relative to the registry. */
export function locationUrl(baseUrl: string, response: ReadResponse): string {
  const location = response.headers.get('location');
  assert.ok(location, `no Location: ${response.describe}`);
  return new URL(location, baseUrl).toString();
}

/** Opens an upload session (POST) and returns its absolute URL. */
export async function startUpload(baseUrl: string, name: string): Promise<string> {
  const response = await send('POST', `${baseUrl}/v2/${name}/blobs/uploads/`);
  assertStatus(response, 202);
  return locationUrl(baseUrl, response);
}

/** Appends a chunk at `start` with an explicit `Content-Range`, as resumable clients do. */
export async function patchChunk(sessionUrl: string, chunk: Uint8Array, start: number): Promise<ReadResponse> {
  return send('PATCH', sessionUrl, {
    headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${start + chunk.length - 1}` },
    body: chunk,
  });
}

/** Closes a session with an optional final chunk. */
export function completeUpload(sessionUrl: string, digest: string, finalChunk: Uint8Array = new Uint8Array()): Promise<ReadResponse> {
  const url = new URL(sessionUrl);
  url.searchParams.set('digest', digest);
  return send('PUT', url.toString(), { headers: { 'content-type': 'application/octet-stream' }, body: finalChunk });
}

/** Pushes a small blob the way most clients do (POST, then PUT with the body) and returns its digest. */
export async function pushBlob(baseUrl: string, name: string, bytes: Uint8Array): Promise<string> {
  const digest = sha256Digest(bytes);
  const response = await completeUpload(await startUpload(baseUrl, name), digest, bytes);
  assertStatus(response, 201);
  assert.equal(response.headers.get('docker-content-digest'), digest, response.describe);
  return digest;
}

/** The committed size an upload `Range: 0-<last>` header reports. */
export function committedSize(response: ReadResponse): number {
  const range = response.headers.get('range');
  const match = range === null ? null : /^0-(\d+)$/.exec(range);
  assert.ok(match, `Range header '${range}' is not 0-<n>: ${response.describe}`);
  const last = Number(match[1]);
  // `0-0` stands for both "empty" and "one byte"; the sessions in these tests never hold exactly one byte.
  return last === 0 ? 0 : last + 1;
}
