import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { OCI_INDEX, OCI_MANIFEST, type Descriptor } from './oci.ts';

// Reading OCI image layouts (the `oci:` side of skopeo and umoci): index.json, blobs, and what an image reaches.

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

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

/** Reads a small blob (manifest, index, config) whole; layers are only ever hashed as a stream. */
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
    if (descriptor.mediaType !== OCI_MANIFEST && descriptor.mediaType !== OCI_INDEX) return;
    const json = JSON.parse((await readLayoutBlob(layoutDir, descriptor.digest)).toString('utf8')) as ImageJson;
    for (const child of [...(json.manifests ?? []), ...(json.config ? [json.config] : []), ...(json.layers ?? [])]) {
      await visit(child);
    }
  };
  await visit(root);
  return closure;
}

/** Asserts that a blob file in a layout has exactly the bytes its descriptor names (streamed hash and size). */
export async function expectLayoutBlobIntact(layoutDir: string, descriptor: Descriptor): Promise<void> {
  const path = blobPath(layoutDir, descriptor.digest);
  assert.equal((await stat(path)).size, descriptor.size, `size of ${descriptor.digest} in ${layoutDir}`);
  assert.equal(await sha256OfFile(path), descriptor.digest, `content of ${descriptor.digest} in ${layoutDir}`);
}

/** `sha256:<hex>` of a file, streamed so multi-MiB layers are never read whole. */
async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Asserts that `tag` in the layout at `outDir` (a pull's destination) is the image whose source layout is
 * `sourceDir`, rooted at `root`: the same root descriptor and the same blob set, every blob byte for byte.
 */
export async function expectLayoutHoldsImage(outDir: string, tag: string, sourceDir: string, root: Descriptor): Promise<void> {
  const copied = await taggedDescriptor(outDir, tag);
  assert.equal(copied.digest, root.digest, 'pulled root digest');
  assert.equal(copied.mediaType, root.mediaType, 'pulled root media type');
  assert.equal(copied.size, root.size, 'pulled root size');
  const expected = await layoutClosure(sourceDir, root);
  const pulled = await layoutClosure(outDir, copied);
  assert.deepEqual([...pulled.keys()].sort(), [...expected.keys()].sort(), 'pulled blob set');
  for (const descriptor of pulled.values()) await expectLayoutBlobIntact(outDir, descriptor);
}
