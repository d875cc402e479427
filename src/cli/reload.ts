import { isDeepStrictEqual } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.ts';
import type { Config } from '../config/types.ts';

export type ReloadResult = { ok: true; config: Config; restartRequired: string[] } | { ok: false; reason: string };

/**
 * Reads and validates the configuration again (chapter 02 §5.2). Settings that only take effect at start-up keep
 * their running values and are named in `restartRequired`; everything else comes from the new files.
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
    ['global.max_concurrent_requests', (c) => c.global.maxConcurrentRequests],
    ['[blob_store]', (c) => c.blobStore],
    ['[metadata_store]', (c) => c.metadataStore],
    ['[cache]', (c) => c.cache],
  ];
  const restartRequired = restartOnly.filter(([, pick]) => !isDeepStrictEqual(pick(running), pick(next))).map(([key]) => key);
  const config: Config = {
    ...next,
    server: { ...next.server, bindAddress: running.server.bindAddress, port: running.server.port, tls: running.server.tls },
    global: { ...next.global, maxConcurrentRequests: running.global.maxConcurrentRequests },
    blobStore: running.blobStore,
    metadataStore: running.metadataStore,
    cache: running.cache,
  };
  return { ok: true, config, restartRequired };
}
