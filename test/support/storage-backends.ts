import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFsStore } from '../../src/storage/open-store.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { S3ObjectStore } from '../../src/storage/s3/s3-object-store.ts';
import { RgwFixture } from './rgw-fixture.ts';
import { S3FaultProxy } from './s3-fault-proxy.ts';
import { s3StorageToml } from './server.ts';

// Tests that must hold on both backends set the storage themselves, one `describe` per backend, so a single
// command covers the filesystem and S3 (a bucket of the run's Ceph RADOS Gateway) whatever ANGOS_TEST_STORAGE says.

export type BackendName = 'filesystem' | 's3';
export const BACKENDS: readonly BackendName[] = ['filesystem', 's3'];
/**
 * The backend of this pass: `npm test` runs test/e2e/ twice, on the filesystem and with `ANGOS_TEST_STORAGE=s3`, so a
 * file there that opens this one backend covers both without running either twice.
 */
export const PASS_BACKEND: BackendName = process.env.ANGOS_TEST_STORAGE === 's3' ? 's3' : 'filesystem';

export interface BackendOptions {
  /**
   * S3 only: `link_cache_ttl` of a `[metadata_store.s3]` on the same bucket and prefix. Unset, the metadata store
   * inherits the blob store and the link cache keeps its default (docs/storage.md, "Link cache (S3 metadata store)").
   */
  linkCacheTtl?: number;
  /**
   * S3 only: the servers reach the gateway through a forwarding proxy (test/support/s3-fault-proxy.ts, a fault
   * mock) whose `observePuts` lets a test refuse one chosen write; `StorageBackend.faults` is that proxy.
   */
  faultProxy?: boolean;
}

/** Storage that servers share by `place`: a root directory on the filesystem, a key prefix of one bucket on S3. */
export interface StorageBackend {
  readonly name: BackendName;
  /** The `[blob_store…]` (and `[metadata_store…]`) TOML of the servers given `place`. */
  storageToml(place: string): string;
  /** A root directory for `startServer` (the storage itself on the filesystem; on S3 only a name for the place). */
  rootDir(place: string): string;
  /**
   * Bytes `place` holds in storage now: every file under the root; on S3 every object under the prefix plus the
   * stored parts of multipart uploads in progress there (a part counts once its UploadPart has completed: S3 shows
   * nothing of a part still being received).
   */
  storedBytes(place: string): Promise<number>;
  /**
   * An object store over `place`, as the servers see it (the same root, or bucket and prefix): for tests that read
   * or damage storage out of band. Closed with the backend.
   */
  store(place: string): ObjectStore;
  /** With `faultProxy` on S3: the proxy between the servers and the gateway. */
  readonly faults?: S3FaultProxy;
  close(): Promise<void>;
}

export async function openBackend(name: BackendName, options: BackendOptions = {}): Promise<StorageBackend> {
  const base = await mkdtemp(join(tmpdir(), `angos-${name}-`));
  if (name === 'filesystem') {
    return {
      name,
      storageToml: (place) => `[blob_store.fs]\nroot_dir = ${JSON.stringify(join(base, place))}`,
      rootDir: (place) => join(base, place),
      storedBytes: (place) => bytesUnder(join(base, place)),
      store: (place) => openFsStore(join(base, place), false),
      close: () => rm(base, { recursive: true, force: true }),
    };
  }
  const fixture = await RgwFixture.start();
  const faults = options.faultProxy ? await S3FaultProxy.start(fixture) : undefined;
  const target = faults ?? fixture;
  const stores: S3ObjectStore[] = [];
  return {
    name,
    storageToml(place) {
      const blob = s3StorageToml(target, place);
      if (options.linkCacheTtl === undefined) return blob;
      const metadata = s3StorageToml(target, place, [`link_cache_ttl = ${options.linkCacheTtl}`]).replace('[blob_store.s3]', '[metadata_store.s3]');
      return `${blob}\n\n${metadata}`;
    },
    rootDir: (place) => join(base, place),
    async storedBytes(place) {
      const prefix = `${place.replace(/\/+$/, '')}/`;
      const [objects, uploads] = await Promise.all([fixture.objects(prefix), fixture.uploads(prefix)]);
      let total = 0;
      for (const size of objects.values()) total += size;
      for (const upload of uploads) for (const size of upload.parts) total += size;
      return total;
    },
    faults,
    store(place) {
      const store = new S3ObjectStore(fixture.options({ keyPrefix: place.replace(/\/+$/, '') }));
      stores.push(store);
      return store;
    },
    async close() {
      for (const store of stores) store.destroy();
      await faults?.close();
      await fixture.close();
      await rm(base, { recursive: true, force: true });
    },
  };
}

/** Every key of a store with the SHA-256 of its contents: equal snapshots mean byte-identical storage. */
export async function storeSnapshot(store: ObjectStore): Promise<Map<string, string>> {
  const snapshot = new Map<string, string>();
  let startAfter: string | undefined;
  do {
    const page = await store.list('', startAfter === undefined ? {} : { startAfter });
    for (const key of page.keys) {
      const body = await store.get(key).catch(() => undefined);
      if (body !== undefined) snapshot.set(key, createHash('sha256').update(body).digest('hex'));
    }
    startAfter = page.next;
  } while (startAfter !== undefined);
  return snapshot;
}

/** Bytes of every file under `dir`, whatever the layout. */
async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0; // removed while walking (a session promoted or cleaned up)
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await bytesUnder(path);
    else total += await lstat(path).then((stats) => stats.size, () => 0);
  }
  return total;
}

/**
 * `[global]` keys every test on an explicit backend sets: on S3 blob and manifest GETs would otherwise answer 307
 * to a presigned URL (docs/configuration.md, `enable_blob_redirect`), and these tests compare bodies.
 */
export const INLINE_BODIES = { enable_blob_redirect: false, enable_manifest_redirect: false } as const;
