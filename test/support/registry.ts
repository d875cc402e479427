import assert from 'node:assert/strict';
import { expectStatus } from './expect.ts';
import { request, send, type HttpResponse, type RequestOptions } from './http.ts';
import { descriptorOf, imageManifest, OCI_LAYER, uniqueBlob, type Content, type Manifest } from './oci.ts';

// Thin protocol steps shared by the e2e files. Each asserts only what every caller relies on (the success
// status); the behaviour under test is asserted in the test files themselves.

/** Single-request upload (`POST …/uploads/?digest=`), expecting 201. */
export async function pushBlob(baseUrl: string, name: string, blob: Content): Promise<HttpResponse> {
  const response = await send(baseUrl, 'POST', `/v2/${name}/blobs/uploads/?digest=${blob.digest}`, { body: blob.bytes });
  expectStatus(response, 201);
  return response;
}

export function headBlob(baseUrl: string, name: string, digest: string, options: RequestOptions = {}): Promise<HttpResponse> {
  return send(baseUrl, 'HEAD', `/v2/${name}/blobs/${digest}`, options);
}

export function getBlob(baseUrl: string, name: string, digest: string, options: RequestOptions = {}): Promise<HttpResponse> {
  return request(baseUrl, `/v2/${name}/blobs/${digest}`, options);
}

export interface Session {
  /** As returned in `Location`, e.g. `/v2/test/app/blobs/uploads/<uuid>`. */
  location: string;
  id: string;
}

/** `POST …/blobs/uploads/` (with an optional query), expecting a 202 session. */
export async function startUpload(baseUrl: string, name: string, query = ''): Promise<Session> {
  const response = await send(baseUrl, 'POST', `/v2/${name}/blobs/uploads/${query}`);
  expectStatus(response, 202);
  const location = response.headers.location;
  assert.ok(location, 'a session has a Location');
  return { location, id: location.slice(location.lastIndexOf('/') + 1) };
}

/** PATCH a chunk with `Content-Range` and `Content-Length`. */
export function patchChunk(baseUrl: string, location: string, data: Buffer | string, start: number): Promise<HttpResponse> {
  const length = Buffer.byteLength(data);
  return send(baseUrl, 'PATCH', location, {
    headers: { 'content-range': `${start}-${start + length - 1}`, 'content-type': 'application/octet-stream' },
    body: data,
  });
}

export interface ManifestPushOptions {
  /** Overrides the manifest's media type as `Content-Type`; `null` sends none. */
  contentType?: string | null;
  /** Appended to the path, e.g. `?tag=a&tag=b`. */
  query?: string;
  body?: Buffer | string;
}

export function putManifest(
  baseUrl: string,
  name: string,
  reference: string,
  manifest: Manifest,
  options: ManifestPushOptions = {},
): Promise<HttpResponse> {
  const contentType = options.contentType === undefined ? manifest.mediaType : options.contentType;
  return send(baseUrl, 'PUT', `/v2/${name}/manifests/${reference}${options.query ?? ''}`, {
    headers: contentType === null ? {} : { 'content-type': contentType },
    body: options.body ?? manifest.bytes,
  });
}

/** Manifest push expecting 201. */
export async function pushManifest(...args: Parameters<typeof putManifest>): Promise<HttpResponse> {
  const response = await putManifest(...args);
  expectStatus(response, 201);
  return response;
}

/** Pushes a fresh config, then `layers`, then an image manifest of them under `tag`. */
export async function pushImage(baseUrl: string, name: string, tag: string, layers: Content[]): Promise<{ manifest: Manifest; config: Content }> {
  const config = uniqueBlob('config');
  for (const blob of [config, ...layers]) await pushBlob(baseUrl, name, blob);
  const manifest = imageManifest({ config: descriptorOf(config, 'application/vnd.oci.image.config.v1+json'), layers: layers.map((layer) => descriptorOf(layer, OCI_LAYER)) });
  await pushManifest(baseUrl, name, tag, manifest);
  return { manifest, config };
}

export function getManifest(baseUrl: string, name: string, reference: string, method = 'GET'): Promise<HttpResponse> {
  return send(baseUrl, method, `/v2/${name}/manifests/${reference}`);
}

export function deleteManifest(baseUrl: string, name: string, reference: string): Promise<HttpResponse> {
  return send(baseUrl, 'DELETE', `/v2/${name}/manifests/${reference}`);
}

/** Runs `task` over `items` with at most `width` in flight (for the 150-referrer setup). */
export async function inParallel<T>(items: T[], width: number, task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  });
  await Promise.all(workers);
}
