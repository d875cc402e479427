import { NO_EVENTS, type Actor, type RegistryEventSink } from '../../src/registry/events.ts';
import type { LinkCache } from '../../src/registry/metadata/link-cache.ts';
import { Registry } from '../../src/registry/registry.ts';
import type { RegistrySettings } from '../../src/registry/settings.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';

/** The actor of changes a domain test makes. */
export const TEST_ACTOR: Actor = { username: 'test' };

/** Registry settings for domain tests that run a `Registry` without a server: permissive, overridable. */
export function registrySettings(overrides: Partial<RegistrySettings> = {}): () => RegistrySettings {
  return () => ({
    maxManifestSize: 4 << 20,
    maxBlobSize: 1 << 30,
    allowMissingManifestReferences: true,
    isImmutable: () => false,
    presignTtlSecs: 1800,
    updatePullTime: false,
    ...overrides,
  });
}

/** A registry over the given stores for domain tests, announcing to `events` (nothing by default). */
export function testRegistry(
  blobStore: ObjectStore,
  metaStore: ObjectStore,
  settings: () => RegistrySettings,
  options: { linkCache?: LinkCache | undefined; events?: RegistryEventSink } = {},
): Registry {
  return new Registry({
    blobStore,
    metaStore,
    settings,
    events: options.events ?? NO_EVENTS,
    ...(options.linkCache ? { linkCache: options.linkCache } : {}),
  });
}
