import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { freePort, startProcess, type RunningSystem } from './system.ts';

const repoRoot = resolve(import.meta.dirname, '../..');
/** The project's Node 24 (the machine's `node` may be older and cannot run the .ts sources). */
const nodeBin = join(repoRoot, 'node_modules/.bin/node');
/** The installed `angos` command, with its Node options, on the compiled CLI (`npm run bench` builds it first). */
const angosBin = process.env.BENCH_ANGOS_BIN ?? join(repoRoot, 'bin/angos.js');

/**
 * This registry on filesystem storage, run as `angos server`. Logging is at `warn`, like
 * Distribution's, so neither pays for a log line per request.
 */
export async function startAngos(workDir: string): Promise<RunningSystem> {
  const port = await freePort();
  const config = join(workDir, 'angos.toml');
  const dataDir = join(workDir, 'angos-data');
  await writeFile(
    config,
    [
      '[server]',
      'bind_address = "127.0.0.1"',
      `port = ${port}`,
      '',
      '[blob_store.fs]',
      `root_dir = ${JSON.stringify(dataDir)}`,
      '',
      '[global.access_policy]',
      'default = "allow"',
      '',
    ].join('\n'),
  );
  // Run as users run it: the command's `#!/usr/bin/env -S node ...` line finds this Node first on PATH.
  // Profiling aid: BENCH_ANGOS_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (passed as NODE_OPTIONS).
  const system = await startProcess('angos', angosBin, ['-c', config, 'server'], {
    workDir,
    port,
    probePath: '/v2/',
    env: {
      ...process.env,
      PATH: `${dirname(nodeBin)}:${process.env.PATH ?? ''}`,
      NODE_OPTIONS: process.env.BENCH_ANGOS_NODE_ARGS ?? '',
      RUST_LOG: 'warn',
    },
  });
  return { ...system, dataDir };
}
