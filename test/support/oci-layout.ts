import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256OfFile } from './digests.ts';

export const OCI_MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string };
  annotations?: Record<string, string>;
}

interface ImageJson {
  mediaType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
}

export function blobPath(layoutDir: string, digest: string): string {
  const [algorithm, hex] = digest.split(':');
  assert.ok(algorithm && hex, `not a digest: ${digest}`);
  return join(layoutDir, 'blobs', algorithm, hex);
}

/** Reads a small blob (manifest, index, config) whole; layers go through `sha256OfFile`. */
export function readLayoutBlob(layoutDir: string, digest: string): Promise<Buffer> {
  return readFile(blobPath(layoutDir, digest));
}

export async function readIndexJson(layoutDir: string): Promise<{ manifests: Descriptor[] }> {
  return JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
}

/** The descriptor `index.json` lists under a tag (the `ref.name` annotation). */
export async function taggedDescriptor(layoutDir: string, tag: string): Promise<Descriptor> {
  const { manifests } = await readIndexJson(layoutDir);
  const found = manifests.filter((entry) => entry.annotations?.[REF_NAME_ANNOTATION] === tag);
  assert.equal(found.length, 1, `layout ${layoutDir} should hold tag ${tag} once: ${JSON.stringify(manifests)}`);
  return found[0]!;
}

/**
 * Every descriptor reachable from a manifest or index (the root itself included), keyed by digest:
 * what a registry has to hold for the image to be pulled back complete.
 */
export async function layoutClosure(layoutDir: string, root: Descriptor): Promise<Map<string, Descriptor>> {
  const closure = new Map<string, Descriptor>();
  const visit = async (descriptor: Descriptor): Promise<void> => {
    if (closure.has(descriptor.digest)) return;
    closure.set(descriptor.digest, descriptor);
    if (descriptor.mediaType !== OCI_MANIFEST_TYPE && descriptor.mediaType !== OCI_INDEX_TYPE) return;
    const json = JSON.parse((await readLayoutBlob(layoutDir, descriptor.digest)).toString('utf8')) as ImageJson;
    for (const child of [...(json.manifests ?? []), ...(json.config ? [json.config] : []), ...(json.layers ?? [])]) {
      await visit(child);
    }
  };
  await visit(root);
  return closure;
}

/** Asserts that a blob file in a layout has exactly the bytes its descriptor names (streamed hash and size). */
export async function assertLayoutBlobIntact(layoutDir: string, descriptor: Descriptor): Promise<void> {
  const path = blobPath(layoutDir, descriptor.digest);
  assert.equal((await stat(path)).size, descriptor.size, `size of ${descriptor.digest} in ${layoutDir}`);
  assert.equal(await sha256OfFile(path), descriptor.digest, `content of ${descriptor.digest} in ${layoutDir}`);
}
