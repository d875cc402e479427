import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3rverFixture } from '../../src/storage/s3/s3rver-fixture.ts';
import { useAtomicS3rver } from './atomic-s3rver.ts';
import { s3StorageToml } from './server.ts';

// Tests that must hold on both backends set the storage themselves, one `describe` per backend, so a single
// command covers the filesystem and S3 (s3rver) whatever ANGOS_TEST_STORAGE says.

export type BackendName = 'filesystem' | 's3';
export const BACKENDS: readonly BackendName[] = ['filesystem', 's3'];

export interface BackendOptions {
  /**
   * S3 only: `link_cache_ttl` of a `[metadata_store.s3]` on the same bucket and prefix. Unset, the metadata store
   * inherits the blob store and the link cache keeps its default (docs/storage.md, "Link cache (S3 metadata store)").
   */
  linkCacheTtl?: number;
}

/** Storage that servers share by `place`: a root directory on the filesystem, a key prefix on one s3rver. */
export interface StorageBackend {
  readonly name: BackendName;
  /** The `[blob_store…]` (and `[metadata_store…]`) TOML of the servers given `place`. */
  storageToml(place: string): string;
  /** A root directory for `startServer` (the storage itself on the filesystem; on S3 only a name for the place). */
  rootDir(place: string): string;
  /** Where stored bytes of `place` appear on this machine's disk: the root, or s3rver's directories of the prefix and of multipart parts. */
  bytesDirs(place: string): string[];
  close(): Promise<void>;
}

export async function openBackend(name: BackendName, options: BackendOptions = {}): Promise<StorageBackend> {
  const base = await mkdtemp(join(tmpdir(), `angos-${name}-`));
  if (name === 'filesystem') {
    return {
      name,
      storageToml: (place) => `[blob_store.fs]\nroot_dir = ${JSON.stringify(join(base, place))}`,
      rootDir: (place) => join(base, place),
      bytesDirs: (place) => [join(base, place)],
      close: () => rm(base, { recursive: true, force: true }),
    };
  }
  // S3 semantics for what a killed client leaves behind (test/support/atomic-s3rver.ts).
  useAtomicS3rver();
  const fixture = await S3rverFixture.start();
  return {
    name,
    storageToml(place) {
      const blob = s3StorageToml(fixture, place);
      if (options.linkCacheTtl === undefined) return blob;
      const metadata = s3StorageToml(fixture, place, [`link_cache_ttl = ${options.linkCacheTtl}`]).replace('[blob_store.s3]', '[metadata_store.s3]');
      return `${blob}\n\n${metadata}`;
    },
    rootDir: (place) => join(base, place),
    bytesDirs: (place) => [join(fixture.directory, fixture.bucket, place), join(fixture.directory, fixture.bucket, '._S3rver_uploads')],
    async close() {
      await fixture.close();
      await rm(base, { recursive: true, force: true });
    },
  };
}

/**
 * `[global]` keys every test on an explicit backend sets: on S3 blob and manifest GETs would otherwise answer 307
 * to a presigned URL (docs/configuration.md, `enable_blob_redirect`), and these tests compare bodies.
 */
export const INLINE_BODIES = { enable_blob_redirect: false, enable_manifest_redirect: false } as const;
