import { after, before } from 'node:test';
import { registryToml, type RegistryConfig } from './config.ts';
import { startServer, type RunningServer } from './server.ts';

/** What a test file needs of its server; filled in by the `before` hook `useServer` registers. */
export interface ServerHandle {
  url: string;
  rootDir: string;
}

/**
 * Starts one registry for the enclosing `describe` (or file) with `config`, and stops it afterwards. Call it
 * at describe level; read `url` inside tests and hooks only.
 */
export function useServer(config: RegistryConfig = {}): ServerHandle {
  const handle: ServerHandle = { url: '', rootDir: '' };
  let running: RunningServer | undefined;
  before(async () => {
    running = await startServer({ extraToml: registryToml(config) });
    handle.url = running.url;
    handle.rootDir = running.rootDir;
  });
  after(async () => {
    await running?.stop();
  });
  return handle;
}
