import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { DEFAULT_CONFIG_PATH } from '../config/load.ts';
import { isImmutableTag } from '../config/repository-lookup.ts';
import { watchConfigFiles } from '../config/watch.ts';
import { reloadConfig } from './reload.ts';
import type { Server as HttpsServer, ServerOptions as TlsServerOptions } from 'node:https';
import type { Config, FsStoreConfig } from '../config/types.ts';
import { refuseUnsafe, warnUnsupported } from './unsupported.ts';
import { webhookAgent } from '../auth/webhook/client.ts';
import { checkBearerTokenFiles } from '../auth/oidc/bearer-token-file.ts';
import { providerAgent } from '../auth/oidc/fetch-json.ts';
import { openCache } from '../cache/open-cache.ts';
import { createRegistryServer } from '../http/server.ts';
import { readTlsFiles, reloadTlsOnChange } from '../http/tls.ts';
import type { Namespace } from '../oci/name.ts';
import type { Tag } from '../oci/tag.ts';
import { logger } from '../observability/logging.ts';
import { openLinkCache } from '../registry/link-cache.ts';
import { Registry } from '../registry/registry.ts';
import type { RegistrySettings } from '../registry/settings.ts';
import { openFsStore, openS3Store } from '../storage/open-store.ts';
import { parseS3Options, S3_DEFAULTS } from '../storage/s3/s3-options.ts';
import type { ObjectStore } from '../storage/object-store.ts';

const log = logger('angos::command::server');

/** `angos server`: serve until SIGINT/SIGTERM, then drain in-flight requests and resolve with the exit code. */
export async function runServer(config: Config, configPaths: string[]): Promise<number> {
  /** The configuration in force; replaced by a successful reload, read by every request. */
  let current = config;
  let blobStore: ObjectStore;
  let metaStore: ObjectStore;
  let presignTtlSecs: number = S3_DEFAULTS.presignTtlSecs;
  try {
    blobStore = await openStore(config.blobStore, 'blob_store');
    metaStore = await openStore(config.metadataStore, 'metadata_store');
    if (config.blobStore.kind === 's3') presignTtlSecs = parseS3Options(config.blobStore.settings).presignTtlSecs ?? presignTtlSecs;
  } catch (err) {
    log.error(`Server error: ${(err as Error).message}`);
    return 1;
  }
  const settings = (): RegistrySettings => ({
    maxManifestSize: current.global.maxManifestSize,
    maxBlobSize: current.global.maxBlobSize,
    allowMissingManifestReferences: current.global.allowMissingManifestReferences,
    isImmutable: (ns: Namespace, tag: Tag) => isImmutableTag(current, ns, tag),
    presignTtlSecs,
  });
  let tls: TlsServerOptions | undefined;
  try {
    tls = config.server.tls && (await readTlsFiles(config.server.tls));
  } catch (err) {
    log.error(`Server error: cannot read TLS files: ${(err as Error).message}`);
    return 1;
  }
  try {
    await buildClients(config);
  } catch (err) {
    log.error(`Server error: ${(err as Error).message}`);
    return 1;
  }
  const unreadable = await checkBearerTokenFiles(config);
  if (unreadable !== undefined) {
    log.error(`Server error: ${unreadable}`);
    return 1;
  }
  const unsafe = refuseUnsafe(config);
  if (unsafe !== undefined) {
    log.error(`Server error: ${unsafe}`);
    return 1;
  }
  warnUnsupported(config);
  const cache = openCache(config.cache);
  // The link cache's TTL is read once: storage settings are kept at their running values by a reload.
  const registry = new Registry(blobStore, metaStore, settings, openLinkCache(config.metadataStore, cache));
  const server = createRegistryServer({ registry, cache, config: () => current, ...(tls ? { tls } : {}) });

  const { bindAddress, port } = config.server;
  try {
    server.listen(port, bindAddress);
    await once(server, 'listening');
  } catch (err) {
    log.error(`Failed to bind to ${bindAddress}:${port}: ${(err as Error).message}`);
    await cache.close();
    return 1;
  }
  const stopTlsReload = config.server.tls ? reloadTlsOnChange(server as HttpsServer, config.server.tls) : () => {};
  const stopConfigReload = watchConfigFiles(configPaths.length > 0 ? configPaths : [DEFAULT_CONFIG_PATH], () => {
    void reloadConfig(current, configPaths).then(async (result) => {
      if (!result.ok) {
        log.error(`Failed to reload configuration: ${result.reason}`);
        return;
      }
      try {
        await buildClients(result.config);
      } catch (err) {
        log.error(`Failed to apply configuration: ${(err as Error).message}`);
        return;
      }
      for (const key of result.restartRequired) log.warn(`${key} changed: a restart is required to apply it; the running value is kept`);
      current = result.config;
      log.info('Configuration reloaded');
    });
  });
  const actual = (server.address() as AddressInfo).port;
  log.info(`Listening on ${bindAddress}:${actual} (${tls ? 'mTLS' : 'non-TLS'})`, {
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
  stopTlsReload();
  stopConfigReload();
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
  await cache.close();
  log.info('Server stopped');
  return 0;
}

/**
 * The TLS clients of authorization webhooks and OIDC providers, built before a configuration is put in force so
 * that an unreadable certificate file fails the start (or the reload) instead of every request.
 */
async function buildClients(config: Config): Promise<void> {
  await Promise.all([
    ...config.authorizationWebhooks.map((webhook) => webhookAgent(webhook)),
    ...config.auth.oidcProviders.map((provider) => providerAgent(provider)),
  ]);
}

function openStore(store: Config['blobStore'], key: string): Promise<ObjectStore> {
  if (store.kind === 'fs') return Promise.resolve(openFsStore(store.rootDir, store.syncToDisk));
  return openS3Store(store.settings, `${key}.s3`);
}

function describeStore(store: Config['blobStore']): string {
  return store.kind === 'fs' ? `fs:${(store as FsStoreConfig).rootDir}` : 's3';
}
