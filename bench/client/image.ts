import { randomBytes } from 'node:crypto';
import { mountBlob, OCI_MANIFEST, pushSmallBlob, putManifest, sha256 } from './oci.ts';
import type { HttpClient } from './http-client.ts';

/** A minimal single-layer image: every call makes distinct content, so no push is a no-op. */
export interface SmallImage {
  config: Buffer;
  layer: Buffer;
  manifest: Buffer;
  digest: string;
}

const LAYER_BYTES = 2048;

export function makeSmallImage(label: string): SmallImage {
  const layer = randomBytes(LAYER_BYTES);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: { 'bench.image': label } },
      rootfs: { type: 'layers', diff_ids: [sha256(layer)] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
    }),
  );
  return { config, layer, manifest, digest: sha256(manifest) };
}

/** Pushes config, layer and manifest as a client would for a new image. */
export async function pushImage(client: HttpClient, ns: string, tag: string, image: SmallImage): Promise<void> {
  await pushSmallBlob(client, ns, image.config);
  await pushSmallBlob(client, ns, image.layer);
  await putManifest(client, ns, tag, image.manifest);
}

/** Pushes an image already stored in `from` into `ns`, mounting its blobs (as `docker push` does across repos). */
export async function pushMountedImage(client: HttpClient, ns: string, from: string, tag: string, image: SmallImage): Promise<void> {
  await mountBlob(client, ns, from, sha256(image.config), image.config);
  await mountBlob(client, ns, from, sha256(image.layer), image.layer);
  await putManifest(client, ns, tag, image.manifest);
}
