import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { freePort, startProcess, type RunningSystem } from './system.ts';

const repoRoot = resolve(import.meta.dirname, '../..');
/** The project's Node 24 (the machine's `node` may be older and cannot run the .ts sources). */
export const nodeBin = join(repoRoot, 'node_modules/.bin/node');
/** The compiled CLI that the installed `angos` binary runs (`npm run bench` builds it first). */
const cliMain = join(repoRoot, 'dist/cli/main.js');

/**
 * This registry on filesystem storage, run as `angos server`. Logging is at `warn`, like
 * Distribution's, so neither pays for a log line per request.
 */
export async function startAngos(workDir: string): Promise<RunningSystem> {
  const port = await freePort();
  const config = join(workDir, 'angos.toml');
  await writeFile(
    config,
    [
      '[server]',
      'bind_address = "127.0.0.1"',
      `port = ${port}`,
      '',
      '[blob_store.fs]',
      `root_dir = ${JSON.stringify(join(workDir, 'angos-data'))}`,
      '',
      '[global.access_policy]',
      'default = "allow"',
      '',
    ].join('\n'),
  );
  // Profiling aid: BENCH_ANGOS_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the measured server.
  const nodeArgs = (process.env.BENCH_ANGOS_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  return startProcess('angos', nodeBin, [...nodeArgs, cliMain, '-c', config, 'server'], {
    workDir,
    port,
    probePath: '/v2/',
    env: { ...process.env, RUST_LOG: 'warn' },
  });
}
