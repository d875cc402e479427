import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { DISTRIBUTION_BIN } from './distribution.ts';

/** A bound on one offline collection, so a hung collector fails the run instead of stalling it. */
const GC_TIMEOUT_MS = 30 * 60_000;

/**
 * Runs Distribution's offline collector, `registry garbage-collect <config>`, on the data of a stopped instance and
 * resolves with its wall time. Its line per marked manifest and deleted blob goes to `logFile`, as an operator would
 * redirect it, so the benchmark process never parses it. Without `--delete-untagged`: manifests deleted by digest are
 * already gone from the repositories, so their blobs are unreferenced and swept.
 */
export async function distributionGarbageCollect(configFile: string, logFile: string): Promise<number> {
  const log = await open(logFile, 'w');
  try {
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('REGISTRY_') && key !== 'AWS_CA_BUNDLE'));
    const started = performance.now();
    const child = spawn(DISTRIBUTION_BIN, ['garbage-collect', configFile], { env, stdio: ['ignore', log.fd, log.fd] });
    const timer = setTimeout(() => child.kill('SIGKILL'), GC_TIMEOUT_MS);
    const code = await new Promise<number | null>((done, fail) => {
      child.once('error', fail);
      child.once('exit', (exitCode) => done(exitCode));
    }).finally(() => clearTimeout(timer));
    const seconds = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`docker-registry garbage-collect exited with ${code}; see ${logFile}`);
    return seconds;
  } finally {
    await log.close();
  }
}
