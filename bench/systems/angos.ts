import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { S3Storage } from './rgw.ts';
import { freePort, startProcess, type RunningSystem } from './system.ts';

const repoRoot = resolve(import.meta.dirname, '../..');
/** The project's Node 24 (the machine's `node` may be older and cannot run the .ts sources). */
const nodeBin = join(repoRoot, 'node_modules/.bin/node');
/** The installed `angos` command, with its Node options, on the compiled CLI (`npm run bench` builds it first). */
const angosBin = process.env.BENCH_ANGOS_BIN ?? join(repoRoot, 'bin/angos.js');

/**
 * This registry, run as `angos server`, on filesystem storage or, with `options.s3`, on an S3 bucket (blobs and
 * metadata, every S3 setting at its default) with blob and manifest redirects on or off, and with pull times recorded
 * when asked (`update_pull_time`), and with a background collector that reclaims at once when asked (`eagerGc`).
 * With `pullThroughUpstream`, a pull-through cache of that registry: `[repository."mirror"]` with the bare host as
 * its upstream, so `mirror/<x>` is the upstream's `<x>`, and immutable tags except `latest` (revalidated upstream).
 * Logging is at `warn`, like Distribution's, so neither pays for a log line per request.
 */
export async function startAngos(
  workDir: string,
  options: { s3?: S3Storage; updatePullTime?: boolean; eagerGc?: boolean; pullThroughUpstream?: string } = {},
): Promise<RunningSystem> {
  const port = await freePort();
  const config = join(workDir, 'angos.toml');
  const dataDir = join(workDir, 'angos-data');
  const { s3 } = options;
  const global = [
    ...(s3 === undefined ? [] : [`enable_blob_redirect = ${s3.redirect}`, `enable_manifest_redirect = ${s3.redirect}`]),
    ...(options.updatePullTime ? ['update_pull_time = true'] : []),
    // The background collector runs as soon as a delete is committed and reclaims at once (docs/configuration.md).
    ...(options.eagerGc ? ['gc_grace_secs = 0', 'gc_after_delete_secs = 0', 'gc_orphan_grant_age_secs = 0'] : []),
  ];
  const storage =
    s3 === undefined
      ? ['[blob_store.fs]', `root_dir = ${JSON.stringify(dataDir)}`]
      : [
          '[blob_store.s3]',
          `endpoint = ${JSON.stringify(s3.endpoint)}`,
          `bucket = ${JSON.stringify(s3.bucket)}`,
          `region = ${JSON.stringify(s3.region)}`,
          `access_key_id = ${JSON.stringify(s3.accessKey)}`,
          `secret_key = ${JSON.stringify(s3.secretKey)}`,
        ];
  await writeFile(
    config,
    [
      '[server]',
      'bind_address = "127.0.0.1"',
      `port = ${port}`,
      '',
      ...storage,
      '',
      ...(global.length === 0 ? [] : ['[global]', ...global, '']),
      '[global.access_policy]',
      'default = "allow"',
      '',
      ...(options.pullThroughUpstream === undefined ? [] : pullThroughCache(options.pullThroughUpstream)),
    ].join('\n'),
  );
  // Run as users run it: the command's `#!/usr/bin/env -S node ...` line finds this Node first on PATH.
  // Profiling aids: BENCH_ANGOS_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (passed as NODE_OPTIONS), and
  // BENCH_ANGOS_LOG as its RUST_LOG (e.g. "warn,angos::maintenance=info" for the collector's run lines).
  const system = await startProcess('angos', angosBin, ['-c', config, 'server'], {
    workDir,
    port,
    probePath: '/v2/',
    env: {
      ...process.env,
      PATH: `${dirname(nodeBin)}:${process.env.PATH ?? ''}`,
      NODE_OPTIONS: process.env.BENCH_ANGOS_NODE_ARGS ?? '',
      RUST_LOG: process.env.BENCH_ANGOS_LOG ?? 'warn',
    },
  });
  return s3 === undefined ? { ...system, dataDir } : system;
}

/** The repository name under which a pull-through cache started with `pullThroughUpstream` mirrors its upstream. */
export const PULL_THROUGH_REPOSITORY = 'mirror';

function pullThroughCache(upstreamUrl: string): string[] {
  return [
    `[repository."${PULL_THROUGH_REPOSITORY}"]`,
    'immutable_tags = true',
    'immutable_tags_exclusions = ["^latest$"]',
    '',
    `[[repository."${PULL_THROUGH_REPOSITORY}".upstream]]`,
    `url = ${JSON.stringify(upstreamUrl)}`,
    '',
  ];
}
