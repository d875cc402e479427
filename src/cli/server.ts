import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { isImmutableTag } from '../config/repository-lookup.ts';
import type { Config, FsStoreConfig } from '../config/types.ts';
import { createRegistryServer } from '../http/server.ts';
import type { Namespace } from '../oci/name.ts';
import type { Tag } from '../oci/tag.ts';
import { logger } from '../observability/logging.ts';
import { Registry } from '../registry/registry.ts';
import type { RegistrySettings } from '../registry/settings.ts';
import { openFsStore } from '../storage/open-store.ts';
import type { ObjectStore } from '../storage/object-store.ts';

const log = logger('angos::command::server');

/** `angos server`: serve until SIGINT/SIGTERM, then drain in-flight requests and resolve with the exit code. */
export async function runServer(config: Config, _configPaths: string[]): Promise<number> {
  let blobStore: ObjectStore;
  let metaStore: ObjectStore;
  try {
    blobStore = openStore(config.blobStore, 'blob_store');
    metaStore = openStore(config.metadataStore, 'metadata_store');
  } catch (err) {
    log.error(`Server error: ${(err as Error).message}`);
    return 1;
  }
  const settings = (): RegistrySettings => ({
    maxManifestSize: config.global.maxManifestSize,
    maxBlobSize: config.global.maxBlobSize,
    allowMissingManifestReferences: config.global.allowMissingManifestReferences,
    isImmutable: (ns: Namespace, tag: Tag) => isImmutableTag(config, ns, tag),
  });
  const registry = new Registry(blobStore, metaStore, settings);
  const server = createRegistryServer({ registry, config: () => config });

  const { bindAddress, port } = config.server;
  try {
    server.listen(port, bindAddress);
    await once(server, 'listening');
  } catch (err) {
    log.error(`Failed to bind to ${bindAddress}:${port}: ${(err as Error).message}`);
    return 1;
  }
  const actual = (server.address() as AddressInfo).port;
  log.info(`Listening on ${bindAddress}:${actual} (non-TLS)`, {
    blob_store: describeStore(config.blobStore),
    metadata_store: describeStore(config.metadataStore),
  });

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  // A second signal means "now".
  const hurry = () => process.exit(1);
  process.once('SIGINT', hurry);
  process.once('SIGTERM', hurry);
  log.info(`Received ${signal}, draining in-flight requests`);
  server.close();
  server.closeIdleConnections();
  const drained = await Promise.race([
    once(server, 'close').then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), config.global.shutdownDrainSecs * 1000).unref()),
  ]);
  if (!drained) {
    log.warn('Shutdown drain period elapsed; closing remaining connections');
    server.closeAllConnections();
  }
  log.info('Server stopped');
  return 0;
}

function openStore(store: Config['blobStore'], key: string): ObjectStore {
  if (store.kind !== 'fs') throw new Error(`[${key}.s3] is not supported by this version yet; use [${key}.fs]`);
  return openFsStore(store.rootDir, store.syncToDisk);
}

function describeStore(store: Config['blobStore']): string {
  return store.kind === 'fs' ? `fs:${(store as FsStoreConfig).rootDir}` : 's3';
}
