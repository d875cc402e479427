import type { RegistrySettings } from '../../src/registry/settings.ts';

/** Registry settings for domain tests that run a `Registry` without a server: permissive, overridable. */
export function registrySettings(overrides: Partial<RegistrySettings> = {}): () => RegistrySettings {
  return () => ({
    maxManifestSize: 4 << 20,
    maxBlobSize: 1 << 30,
    allowMissingManifestReferences: true,
    isImmutable: () => false,
    presignTtlSecs: 1800,
    ...overrides,
  });
}
