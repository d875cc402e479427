import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { DEFAULT_CONFIG_PATH } from '../config/load.ts';
import { isImmutableTag } from '../config/repository-lookup.ts';
import { watchConfigFiles } from '../config/watch.ts';
import { reloadConfig } from './reload.ts';
import type { Server as HttpsServer, ServerOptions as TlsServerOptions } from 'node:https';
import type { BlobStoreConfig, Config, MetadataStoreConfig } from '../config/types.ts';
import { refuseUnsafe, warnUnsupported } from './unsupported.ts';
import { webhookAgent } from '../auth/webhook/client.ts';
import { checkBearerTokenFiles } from '../auth/oidc/bearer-token-file.ts';
import { providerAgent } from '../auth/oidc/fetch-json.ts';
import type { Cache } from '../cache/cache.ts';
import { openCache } from '../cache/open-cache.ts';
import { createRegistryServer, type ServerComponents } from '../http/server.ts';
import { serving } from '../http/request-tracking.ts';
import { readTlsFiles, reloadTlsOnChange } from '../http/tls.ts';
import type { Namespace } from '../oci/name.ts';
import type { Tag } from '../oci/tag.ts';
import { logger } from '../observability/logging.ts';
import { openLinkCache } from '../registry/metadata/link-cache.ts';
import { LOGGED_EVENTS, type RegistryEventSink } from '../registry/events.ts';
import { Actions } from '../maintenance/actions.ts';
import { BackgroundCollector } from '../maintenance/background.ts';
import type { MaintenanceContext } from '../maintenance/context.ts';
import { Pace } from '../maintenance/pace.ts';
import { startRetentionSchedule } from '../maintenance/retention-schedule.ts';
import { Registry } from '../registry/registry.ts';
import type { RegistrySettings } from '../registry/settings.ts';
import { S3_DEFAULTS } from '../config/s3-section.ts';
import { missingNodeFlags, serverMemoryPolicy, type MemoryPolicy } from '../runtime/memory-policy.ts';
import { openFsStore, openS3Store } from '../storage/open-store.ts';
import type { ObjectStore } from '../storage/object-store.ts';

/** Background maintenance yields for this long after the last request, not only while one is in flight. */
const SERVING_GRACE_MS = 1000;
const log = logger('angos::command::server');

/** `angos server`: serve until SIGINT/SIGTERM, then drain in-flight requests and resolve with the exit code. */
export async function runServer(config: Config, configPaths: string[]): Promise<number> {
  /** The configuration in force; replaced by a successful reload, read by every request. */
  let current = config;
  let presignTtlSecs = presignTtlOf(config);
  const settings = (): RegistrySettings => ({
    maxManifestSize: current.global.maxManifestSize,
    maxBlobSize: current.global.maxBlobSize,
    allowMissingManifestReferences: current.global.allowMissingManifestReferences,
    isImmutable: (ns: Namespace, tag: Tag) => isImmutableTag(current, ns, tag),
    presignTtlSecs,
    updatePullTime: current.global.updatePullTime,
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
  const memory = serverMemoryPolicy();
  const missing = missingNodeFlags();
  if (missing.length > 0) {
    log.warn(`Running without the server's memory limits (${missing.join(' ')}): start it with the angos command or npm start, or pass them to node (docs/operations.md, "Memory")`);
  }
  /** Stores, cache and registry in force; rebuilt by a reload that changes storage or `[cache]`. */
  let components: RunningComponents;
  /** What background maintenance works on: the configuration and stores in force when a run starts. */
  const pace = new Pace(() => serving(SERVING_GRACE_MS));
  const maintenance = (actions: Actions): MaintenanceContext => ({ config: current, ...components, actions, graceMs: current.global.gc.graceSecs * 1000, now: Date.now, pace });
  const collector = new BackgroundCollector(maintenance, () => current.global.gc);
  const events: RegistryEventSink = {
    beforeCommit: (event) => LOGGED_EVENTS.beforeCommit(event),
    committed: (event) => {
      LOGGED_EVENTS.committed(event);
      collector.observe(event);
    },
  };
  try {
    components = await buildComponents(config, settings, memory, events);
  } catch (err) {
    log.error(`Server error: ${(err as Error).message}`);
    return 1;
  }
  // Installed before listening: a signal right after the `Listening` line must drain, not kill the process.
  const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const server = createRegistryServer({ components: () => components, config: () => current, manifestBytes: memory.manifestBytes, ...(tls ? { tls } : {}) });

  const { bindAddress, port } = config.server;
  try {
    server.listen(port, bindAddress);
    await once(server, 'listening');
  } catch (err) {
    log.error(`Failed to bind to ${bindAddress}:${port}: ${(err as Error).message}`);
    await components.cache.close();
    return 1;
  }
  const stopTlsReload = config.server.tls ? reloadTlsOnChange(server as HttpsServer, config.server.tls) : () => {};
  const stopConfigReload = watchConfigFiles(configPaths.length > 0 ? configPaths : [DEFAULT_CONFIG_PATH], () => {
    void reloadConfig(current, configPaths).then(async (result) => {
      if (!result.ok) {
        log.error(`Failed to reload configuration: ${result.reason}`);
        return;
      }
      let next = components;
      try {
        // The start-up refusals hold for a reload too: a configuration the server would not start with is not applied.
        const refused = refuseUnsafe(result.config);
        if (refused !== undefined) throw new Error(refused);
        await buildClients(result.config);
        if (storageChanged(current, result.config)) next = await buildComponents(result.config, settings, memory, events, sameCache(current, result.config) ? components.cache : undefined);
      } catch (err) {
        log.error(`Failed to apply configuration: ${(err as Error).message}`);
        return;
      }
      for (const key of result.restartRequired) log.warn(`${key} changed: a restart is required to apply it; the running value is kept`);
      const previous = components;
      current = result.config;
      components = next;
      presignTtlSecs = presignTtlOf(current);
      // Requests that began on the old components finish with them: a replaced Redis connection closes a minute
      // later, and replaced S3 clients are left to their sockets' idle timeout.
      if (next.cache !== previous.cache) setTimeout(() => void previous.cache.close(), CACHE_RETIRE_MS).unref();
      log.info('Configuration reloaded');
    });
  });
  collector.start();
  const retention = startRetentionSchedule(() => maintenance(new Actions(false)), config.global.retentionIntervalSecs * 1000);
  const actual = (server.address() as AddressInfo).port;
  log.info(`Listening on ${bindAddress}:${actual} (${tls ? 'mTLS' : 'non-TLS'})`, {
    blob_store: describeStore(config.blobStore),
    metadata_store: describeStore(config.metadataStore),
  });

  const signal = await stopRequested;
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
    new Promise<false>((resolve) => setTimeout(() => resolve(false), current.global.shutdownDrainSecs * 1000).unref()),
  ]);
  if (!drained) {
    log.warn('Shutdown drain period elapsed; closing remaining connections');
    server.closeAllConnections();
  }
  retention.stop();
  pace.halt();
  await collector.stop();
  await components.cache.close();
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

/** How long a cache replaced by a reload stays open for the requests that started with it. */
const CACHE_RETIRE_MS = 60_000;

/**
 * Opens both stores (S3: clients built, the blob store's server probed for the multipart operations uploads need),
 * the cache unless one is passed to keep its contents, and the registry over them. A failure leaves nothing in
 * force: the caller keeps what it had.
 */
/** What the server runs on: the HTTP layer's components, and the stores background maintenance works on. */
interface RunningComponents extends ServerComponents {
  blobStore: ObjectStore;
  metaStore: ObjectStore;
}

async function buildComponents(config: Config, settings: () => RegistrySettings, memory: MemoryPolicy, events: RegistryEventSink, keptCache?: Cache): Promise<RunningComponents> {
  const blobStore = await openStore(config.blobStore, 'blob_store', memory, true);
  const metaStore = await openStore(config.metadataStore, 'metadata_store', memory, false);
  const cache = keptCache ?? (await openCache(config.cache));
  const linkCache = openLinkCache(config.metadataStore, cache);
  const registry = new Registry({ blobStore, metaStore, settings, events, ...(linkCache ? { linkCache } : {}) });
  return { registry, cache, blobStore, metaStore };
}

function storageChanged(running: Config, next: Config): boolean {
  return !isDeepStrictEqual(running.blobStore, next.blobStore) || !isDeepStrictEqual(running.metadataStore, next.metadataStore) || !sameCache(running, next);
}

function sameCache(running: Config, next: Config): boolean {
  return isDeepStrictEqual(running.cache, next.cache);
}

/** Presigned URLs only come from an S3 blob store; the filesystem never redirects, so its value is never used. */
function presignTtlOf(config: Config): number {
  return config.blobStore.kind === 's3' ? config.blobStore.settings.presignTtlSecs : S3_DEFAULTS.presignTtlSecs;
}

/** `uploads`: the store holds upload sessions, so an S3 server must have the multipart operations they need. */
async function openStore(store: BlobStoreConfig | MetadataStoreConfig, key: string, memory: MemoryPolicy, uploads: boolean): Promise<ObjectStore> {
  if (store.kind === 'fs') return openFsStore(store.rootDir, store.syncToDisk, memory);
  const s3 = await openS3Store(store.settings, `${key}.s3`);
  if (!uploads) return s3;
  try {
    await s3.checkMultipartSupport();
  } catch (err) {
    s3.destroy();
    throw err;
  }
  return s3;
}

function describeStore(store: BlobStoreConfig | MetadataStoreConfig): string {
  return store.kind === 'fs' ? `fs:${store.rootDir}` : 's3';
}
