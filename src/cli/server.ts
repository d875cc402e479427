import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { DEFAULT_CONFIG_PATH } from '../config/load.ts';
import { watchConfigFiles } from '../config/watch.ts';
import { reloadConfig } from './reload.ts';
import { openRegistry, registrySettings } from './components.ts';
import { startServerJobs, type ServerJobs } from './server-jobs.ts';
import type { Server as HttpsServer, ServerOptions as TlsServerOptions } from 'node:https';
import type { BlobStoreConfig, Config, MetadataStoreConfig } from '../config/types.ts';
import { refuseUnsafe, warnUnsupported } from './unsupported.ts';
import { webhookAgent } from '../auth/webhook/client.ts';
import { checkBearerTokenFiles } from '../auth/oidc/bearer-token-file.ts';
import { providerAgent } from '../auth/oidc/fetch-json.ts';
import type { Cache } from '../cache/cache.ts';
import { createRegistryServer, type ServerComponents } from '../http/server.ts';
import { serving } from '../http/request-tracking.ts';
import { readTlsFiles, reloadTlsOnChange } from '../http/tls.ts';
import { logger } from '../observability/logging.ts';
import { LOGGED_EVENTS, type RegistryEventSink } from '../registry/events.ts';
import { Actions } from '../maintenance/actions.ts';
import { BackgroundCollector } from '../maintenance/background.ts';
import type { MaintenanceContext } from '../maintenance/context.ts';
import { Pace } from '../maintenance/pace.ts';
import { startRetentionSchedule } from '../maintenance/retention-schedule.ts';
import { JobStore } from '../jobs/job-store.ts';
import { PullThrough } from '../mirror/pull-through.ts';
import { Upstreams } from '../mirror/upstreams.ts';
import { jobPolicyOf } from '../jobs/queue.ts';
import type { RegistrySettings } from '../registry/settings.ts';
import { missingNodeFlags, serverMemoryPolicy, type MemoryPolicy } from '../runtime/memory-policy.ts';
import type { ObjectStore } from '../storage/object-store.ts';

/** Background maintenance yields for this long after the last request, not only while one is in flight. */
const SERVING_GRACE_MS = 1000;
const log = logger('angos::command::server');

/** `angos server`: serve until SIGINT/SIGTERM, then drain in-flight requests and resolve with the exit code. */
export async function runServer(config: Config, configPaths: string[]): Promise<number> {
  /** The configuration in force; replaced by a successful reload, read by every request. */
  let current = config;
  const settings = (): RegistrySettings => registrySettings(current);
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
    components = await buildComponents(config, () => current, settings, memory, events);
  } catch (err) {
    log.error(`Server error: ${(err as Error).message}`);
    return 1;
  }
  // The job queue: in-process drainers, or (with [global.job_queue]) the claim probe and the queue gauges.
  let jobs: ServerJobs;
  try {
    jobs = await startServerJobs(config, () => current, () => components);
  } catch (err) {
    log.error(`Server error: ${(err as Error).message}`);
    await components.cache.close();
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
    await jobs.stop();
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
        next = storageChanged(current, result.config)
          ? await buildComponents(result.config, () => current, settings, memory, events, sameCache(current, result.config) ? components.cache : undefined)
          : await withUpstreams(components, result.config, () => current);
      } catch (err) {
        log.error(`Failed to apply configuration: ${(err as Error).message}`);
        return;
      }
      for (const key of result.restartRequired) log.warn(`${key} changed: a restart is required to apply it; the running value is kept`);
      const previous = components;
      current = result.config;
      components = next;
      // Requests that began on the old components finish with them: a replaced Redis connection closes a minute
      // later, and replaced S3 clients are left to their sockets' idle timeout.
      if (next.cache !== previous.cache) setTimeout(() => void previous.cache.close(), CACHE_RETIRE_MS).unref();
      setTimeout(() => void previous.upstreams.close(), CACHE_RETIRE_MS).unref();
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
  await jobs.stop();
  await Promise.all([components.cache.close(), components.upstreams.close()]);
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

/** What the server runs on: the HTTP layer's components, and the stores background maintenance works on. */
interface RunningComponents extends ServerComponents {
  blobStore: ObjectStore;
  metaStore: ObjectStore;
  upstreams: Upstreams;
  pullThrough: PullThrough;
}

/**
 * The registry over freshly opened stores (`components.ts`), the job queue on its metadata store, and the pull-through
 * cache over them.
 */
async function buildComponents(
  config: Config,
  current: () => Config,
  settings: () => RegistrySettings,
  memory: MemoryPolicy,
  events: RegistryEventSink,
  keptCache?: Cache,
): Promise<RunningComponents> {
  const parts = await openRegistry(config, settings, events, { memory, ...(keptCache ? { keptCache } : {}) });
  try {
    return await withUpstreams({ ...parts, jobs: new JobStore(parts.metaStore, () => jobPolicyOf(config.global.jobQueue)) }, config, current);
  } catch (err) {
    if (!keptCache) await parts.cache.close();
    throw err;
  }
}

/** `running` with the upstreams of `config` opened afresh (their TLS files read: failing fails the start or reload). */
async function withUpstreams(running: Omit<RunningComponents, 'upstreams' | 'pullThrough'>, config: Config, current: () => Config): Promise<RunningComponents> {
  const upstreams = await Upstreams.open(config, running.cache);
  const pullThrough = new PullThrough({ registry: running.registry, config: current, upstreams: () => upstreams, jobs: running.jobs });
  return { ...running, upstreams, pullThrough };
}

function storageChanged(running: Config, next: Config): boolean {
  return !isDeepStrictEqual(running.blobStore, next.blobStore) || !isDeepStrictEqual(running.metadataStore, next.metadataStore) || !sameCache(running, next);
}

function sameCache(running: Config, next: Config): boolean {
  return isDeepStrictEqual(running.cache, next.cache);
}

function describeStore(store: BlobStoreConfig | MetadataStoreConfig): string {
  return store.kind === 'fs' ? `fs:${store.rootDir}` : 's3';
}
