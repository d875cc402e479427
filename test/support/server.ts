import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createHash } from 'node:crypto';
import { parse, stringify } from 'smol-toml';
import { SERVER_ENVIRONMENT, SERVER_NODE_FLAGS } from '../../src/runtime/memory-policy.ts';
import { RgwFixture, type S3Place } from './rgw-fixture.ts';

const repoRoot = resolve(import.meta.dirname, '../..');
/** The Node 24 that `npm ci` installs; tests never use the machine's older node. */
export const nodeBin = join(repoRoot, 'node_modules/.bin/node');
export const cliMain = join(repoRoot, 'src/cli/main.ts');

export interface RunningServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** The storage root used by this server (blob and metadata store). */
  rootDir: string;
  /** The configuration file the server was started with (rewrite it to test hot reload). */
  configPath: string;
  process: ChildProcess;
  /** Every JSON log line the server printed so far. */
  logs: Array<Record<string, unknown>>;
  /** SIGTERM and wait for exit (resolves with the exit code). */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit (a default root, inside the temp dir, is left for a restart on it). */
  kill(): Promise<void>;
}

export interface StartOptions {
  /**
   * Extra TOML appended after the generated `[server]` and `[blob_store.fs]` sections. Unless it declares an
   * `access_policy`, `[global.access_policy] default = "allow"` is added.
   */
  extraToml?: string;
  /** Reuse a storage root (two servers on one root, or a restart). A fresh temp dir otherwise. */
  rootDir?: string;
  /** TOML of the storage sections, replacing the default `[blob_store.fs]` under `rootDir` (e.g. S3 on the test gateway). */
  storageToml?: string;
  env?: Record<string, string>;
  /** Extra lines of the generated `[server]` table (e.g. `handshake_timeout = 1`). */
  serverKeys?: string;
}

let s3: Promise<RgwFixture> | undefined;

/**
 * Filesystem storage under `rootDir`, or with `ANGOS_TEST_STORAGE=s3` both stores in one bucket of the run's Ceph
 * RADOS Gateway per test process (test/support/rgw-fixture.ts), under a key prefix derived from `rootDir` (servers
 * sharing a root share the prefix). The bucket is emptied and removed once the process has nothing left to do.
 * Redirects are off there unless a test turns them on, so the suite's inline-body assertions hold on both backends.
 */
async function defaultStorageToml(rootDir: string): Promise<string> {
  if (process.env.ANGOS_TEST_STORAGE !== 's3') return `[blob_store.fs]\nroot_dir = ${JSON.stringify(rootDir)}`;
  s3 ??= RgwFixture.start().then((fixture) => {
    // 'beforeExit' comes once the tests are done and their servers stopped; the cluster keeps every byte in memory
    // until the bucket is emptied.
    process.once('beforeExit', () => void fixture.close().catch((error: unknown) => console.error(`closing the test bucket ${fixture.bucket}: ${String(error)}`)));
    return fixture;
  });
  const fixture = await s3;
  return s3StorageToml(fixture, createHash('sha256').update(rootDir).digest('hex').slice(0, 16));
}

/** `[blob_store.s3]` on an S3 place (a bucket of the test gateway, or a proxy in front of one) under a key prefix, plus any extra keys of that table. */
export function s3StorageToml(place: S3Place, keyPrefix: string, extraKeys: readonly string[] = []): string {
  return [
    '[blob_store.s3]',
    `endpoint = ${JSON.stringify(place.endpoint)}`,
    `bucket = ${JSON.stringify(place.bucket)}`,
    'region = "us-east-1"',
    `access_key_id = ${JSON.stringify(place.accessKey)}`,
    `secret_key = ${JSON.stringify(place.secretKey)}`,
    `key_prefix = ${JSON.stringify(keyPrefix)}`,
    'multipart_part_size = "5MiB"',
    ...extraKeys,
  ].join('\n');
}

/** The test's TOML with blob and manifest redirects off unless it sets them itself. */
function withoutRedirects(toml: string): string {
  const document = parse(toml) as { global?: Record<string, unknown> } & Record<string, unknown>;
  const global = (document.global ??= {});
  global.enable_blob_redirect ??= false;
  global.enable_manifest_redirect ??= false;
  return stringify(document);
}

/** Starts `angos server` as a real child process on a free loopback port and waits for its listening line. */
export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const workDir = await mkdtemp(join(tmpdir(), 'angos-test-'));
  const rootDir = options.rootDir ?? join(workDir, 'data');
  const configPath = join(workDir, 'config.toml');
  const extraToml = options.extraToml ?? '';
  const storage = options.storageToml ?? (await defaultStorageToml(rootDir));
  // Without an access policy the registry denies everything (fail closed); tests default to allow-all unless
  // they configure a policy themselves.
  const policy = extraToml.includes('access_policy]') ? '' : '[global.access_policy]\ndefault = "allow"\n';
  const settings = process.env.ANGOS_TEST_STORAGE === 's3' && options.storageToml === undefined ? withoutRedirects(`${extraToml}\n${policy}`) : `${extraToml}\n${policy}`;
  await writeFile(
    configPath,
    `[server]\nbind_address = "127.0.0.1"\nport = 0\n${options.serverKeys ?? ''}\n\n${storage}\n\n${settings}`,
  );
  // Run as `angos server` runs: with the server's memory policy (`src/runtime/memory-policy.ts`).
  const child = spawn(nodeBin, [...SERVER_NODE_FLAGS, cliMain, '-c', configPath, 'server'], {
    cwd: workDir,
    env: { ...process.env, ...SERVER_ENVIRONMENT, RUST_LOG: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));

  const port = await new Promise<number>((resolvePort, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      const message = (entry.fields as { message?: string } | undefined)?.message ?? '';
      const match = /^Listening on .*:(\d+) /.exec(message);
      if (match) resolvePort(Number(match[1]));
    });
    void exited.then((code) => reject(new Error(`server exited with ${code} before listening: ${stderr}`)));
  });

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    rootDir,
    configPath,
    process: child,
    logs,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      await rm(workDir, { recursive: true, force: true });
      return code;
    },
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      // With a caller-owned root the temp dir holds only the config: nothing a restart needs.
      if (options.rootDir !== undefined) await rm(workDir, { recursive: true, force: true });
    },
  };
}
