import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MediaType } from '../oci/media-type.ts';
import { parseNamespace } from '../oci/name.ts';
import { parseReference } from '../oci/reference.ts';
import { openFsStore } from '../storage/open-store.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { NO_EVENTS, type Actor } from './events.ts';
import { Registry } from './registry.ts';

/** The actor of changes a test makes straight through the domain. */
export const TEST_ACTOR: Actor = { username: 'test' };

/**
 * Test support: a registry over a real filesystem store in a fresh directory, which `cleanup` removes.
 * Manifest references need not exist, so tests push manifests without uploading their blobs.
 */
export async function openTestRegistry(): Promise<{ registry: Registry; store: ObjectStore; cleanup: () => Promise<void> }> {
  const rootDir = await mkdtemp(join(tmpdir(), 'angos-registry-'));
  const store = openFsStore(rootDir, false);
  return { registry: registryOver(store, false), store, cleanup: () => rm(rootDir, { recursive: true, force: true }) };
}

/** Pushes a manifest straight to the domain, as a client's PUT or a cache fill would store it. */
export async function pushTo(registry: Registry, ns: string, reference: string, manifest: { mediaType: string; bytes: Buffer }): Promise<void> {
  const name = parseNamespace(ns);
  const parsed = parseReference(reference);
  if (!name || !parsed) throw new Error(`bad namespace or reference: ${ns} ${reference}`);
  await registry.manifests.push(name, { reference: parsed, contentType: manifest.mediaType as MediaType, body: manifest.bytes, extraTags: [] }, TEST_ACTOR);
}

/** The domain over one store holding both blobs and metadata, with the small limits tests push within. */
export function registryOver(store: ObjectStore, updatePullTime: boolean): Registry {
  return new Registry({
    blobStore: store,
    metaStore: store,
    settings: () => ({
      maxManifestSize: 1 << 20,
      maxBlobSize: 1 << 20,
      allowMissingManifestReferences: true,
      isImmutable: () => false,
      presignTtlSecs: 1800,
      updatePullTime,
    }),
    events: NO_EVENTS,
  });
}
