import { isDeepStrictEqual } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.ts';
import type { Config } from '../config/types.ts';

export type ReloadResult = { ok: true; config: Config; restartRequired: string[] } | { ok: false; reason: string };

/** Storage settings a reload cannot change; any of them changed keeps the whole running storage configuration. */
const STORAGE_KINDS: Array<[string, (config: Config) => unknown]> = [
  ['[blob_store] backend (fs/s3)', (c) => c.blobStore.kind],
  ['[metadata_store] backend (fs/s3)', (c) => c.metadataStore.kind],
];

/**
 * Reads and validates the configuration again (docs/operations.md, "Hot reload"). Settings that only take effect at
 * start-up keep their running values and are named in `restartRequired`; everything else comes from the new files.
 */
export async function reloadConfig(running: Config, paths: readonly string[]): Promise<ReloadResult> {
  let next: Config;
  try {
    next = await loadConfig(paths);
  } catch (err) {
    return { ok: false, reason: err instanceof ConfigError ? err.reason : (err as Error).message };
  }
  const restartOnly: Array<[string, (config: Config) => unknown]> = [
    ['server.bind_address', (c) => c.server.bindAddress],
    ['server.port', (c) => c.server.port],
    ['[server.tls] (presence and file paths)', (c) => c.server.tls],
    ['server.handshake_timeout', (c) => c.server.handshakeTimeoutSecs],
    ['global.max_concurrent_requests', (c) => c.global.maxConcurrentRequests],
    ['[global.job_queue] (presence and settings)', (c) => c.global.jobQueue],
    ['[observability.tracing]', (c) => c.observability],
    // Credentials, endpoints, prefixes, root_dir, tuning and [cache] apply live (rebuilt by the server).
    ...STORAGE_KINDS,
  ];
  const restartRequired = restartOnly.filter(([, pick]) => !isDeepStrictEqual(pick(running), pick(next))).map(([key]) => key);
  const keepStorage = STORAGE_KINDS.some(([, pick]) => !isDeepStrictEqual(pick(running), pick(next)));
  const config: Config = {
    ...next,
    server: {
      ...next.server,
      bindAddress: running.server.bindAddress,
      port: running.server.port,
      tls: running.server.tls,
      handshakeTimeoutSecs: running.server.handshakeTimeoutSecs,
    },
    global: { ...next.global, maxConcurrentRequests: running.global.maxConcurrentRequests, jobQueue: running.global.jobQueue },
    observability: running.observability,
    blobStore: keepStorage ? running.blobStore : next.blobStore,
    metadataStore: keepStorage ? running.metadataStore : next.metadataStore,
  };
  return { ok: true, config, restartRequired };
}
