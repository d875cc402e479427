import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { freePort, startProcess, type RunningSystem } from './system.ts';

const repoRoot = resolve(import.meta.dirname, '../..');
const nodeBin = join(repoRoot, 'node_modules/.bin/node');

/**
 * The same Node options as the `angos` command (bin/angos.js): with Node's default 64 MiB young generation the
 * body's 64 KiB buffers land on fresh pages, whose faults cost as much as the file's own here (`README.md`).
 */
const NODE_OPTIONS = ['--max-semi-space-size=4', '--max-old-space-size=192'];

/**
 * The machine's own push ceiling: a bare Node HTTP server (`write-ceiling-server.ts`, its own process) that hashes
 * the pushed body and writes it to a new file in `workDir`, on the same filesystem as the registries' data.
 * Registries' pushes are reported as a fraction of its rate.
 */
export async function startWriteCeiling(workDir: string): Promise<RunningSystem> {
  const port = await freePort();
  const dataDir = join(workDir, 'ceiling-data');
  await mkdir(dataDir);
  const server = join(import.meta.dirname, 'write-ceiling-server.ts');
  const system = await startProcess('ceiling', nodeBin, [...NODE_OPTIONS, server, dataDir, String(port)], { workDir, port, probePath: '/' });
  return { ...system, dataDir };
}
