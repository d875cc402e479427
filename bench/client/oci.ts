import { createHash } from 'node:crypto';
import type { Blob } from '../blob-source.ts';
import { expectStatus, type HttpClient } from './http-client.ts';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCTETS = 'application/octet-stream';

export function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

async function openUpload(client: HttpClient, ns: string): Promise<string> {
  const reply = await client.send('POST', `/v2/${ns}/blobs/uploads/`, { headers: { 'content-length': 0 } });
  expectStatus(reply, 202, `POST /v2/${ns}/blobs/uploads/`);
  return client.pathOf(reply.headers.location, 'POST upload');
}

function withDigest(path: string, digest: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

/** POST, then one PUT carrying the whole body (what `docker push` does for a layer of known size). */
export async function pushMonolithic(client: HttpClient, ns: string, blob: Blob): Promise<void> {
  const location = await openUpload(client, ns);
  const reply = await client.send('PUT', withDigest(location, blob.digest), {
    headers: { 'content-type': OCTETS, 'content-length': blob.size },
    body: blob.bytes(),
  });
  expectStatus(reply, 201, `PUT ${ns} blob ${blob.digest}`);
}

/** POST, a PATCH per `chunkSize` bytes with its Content-Range, then an empty PUT with the digest. */
export async function pushChunked(client: HttpClient, ns: string, blob: Blob, chunkSize: number): Promise<void> {
  let location = await openUpload(client, ns);
  for (let start = 0; start < blob.size; start += chunkSize) {
    const end = Math.min(blob.size, start + chunkSize);
    const reply = await client.send('PATCH', location, {
      headers: { 'content-type': OCTETS, 'content-length': end - start, 'content-range': `${start}-${end - 1}` },
      body: blob.bytes(start, end),
    });
    expectStatus(reply, 202, `PATCH ${ns} bytes ${start}-${end - 1}`);
    location = client.pathOf(reply.headers.location, 'PATCH upload');
  }
  const reply = await client.send('PUT', withDigest(location, blob.digest), { headers: { 'content-length': 0 } });
  expectStatus(reply, 201, `PUT ${ns} blob ${blob.digest} (close chunked upload)`);
}

/** A small blob the way a client pushes one: HEAD to see it is missing, POST, PUT with the body. */
export async function pushSmallBlob(client: HttpClient, ns: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const head = await client.send('HEAD', `/v2/${ns}/blobs/${digest}`);
  if (head.status === 200) return digest;
  expectStatus(head, 404, `HEAD ${ns} blob ${digest}`);
  const location = await openUpload(client, ns);
  const reply = await client.send('PUT', withDigest(location, digest), { headers: { 'content-type': OCTETS }, body: bytes });
  expectStatus(reply, 201, `PUT ${ns} blob ${digest}`);
  return digest;
}

/** Cross-repository mount; a registry that opens a session instead gets the bytes uploaded. */
export async function mountBlob(client: HttpClient, ns: string, from: string, digest: string, bytes: Buffer): Promise<void> {
  const query = `mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
  const reply = await client.send('POST', `/v2/${ns}/blobs/uploads/?${query}`, { headers: { 'content-length': 0 } });
  if (reply.status === 201) return;
  expectStatus(reply, 202, `POST mount ${digest} into ${ns}`);
  const location = client.pathOf(reply.headers.location, 'POST mount');
  const put = await client.send('PUT', withDigest(location, digest), { headers: { 'content-type': OCTETS }, body: bytes });
  expectStatus(put, 201, `PUT ${ns} blob ${digest}`);
}

export async function putManifest(client: HttpClient, ns: string, reference: string, manifest: Buffer): Promise<void> {
  const reply = await client.send('PUT', `/v2/${ns}/manifests/${reference}`, { headers: { 'content-type': OCI_MANIFEST }, body: manifest });
  expectStatus(reply, 201, `PUT manifest ${ns}:${reference}`);
}
