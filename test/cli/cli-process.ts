import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repoRoot = resolve(import.meta.dirname, '../..');
const nodeBin = join(repoRoot, 'node_modules/.bin/node');
const cliMain = join(repoRoot, 'src/cli/main.ts');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout lines parsed as JSON log records (non-JSON lines are skipped). */
  logs: Array<{ level: string; target: string; fields: Record<string, unknown> }>;
}

export interface CliOptions {
  cwd: string;
  /** Written to stdin, then stdin is closed; stdin is closed immediately when absent. */
  input?: string;
  /** RUST_LOG for the child; undefined removes it from the environment. */
  rustLog?: string;
}

/** Runs `node src/cli/main.ts <args>` to completion as a real child process. */
export function runCli(args: string[], options: CliOptions): Promise<CliResult> {
  const env = { ...process.env };
  delete env.RUST_LOG;
  if (options.rustLog !== undefined) env.RUST_LOG = options.rustLog;
  const child = spawn(nodeBin, [cliMain, ...args], { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(options.input ?? '');
  return new Promise((done, fail) => {
    child.once('error', fail);
    child.once('close', (code) => {
      const logs = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as CliResult['logs'][number]);
      done({ code, stdout, stderr, logs });
    });
  });
}

/** A fresh working directory holding `files`, removed after `body`. */
export async function inTempDir(files: Record<string, string>, body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'angos-cli-'));
  try {
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const MINIMAL_CONFIG = '[server]\nbind_address = "127.0.0.1"\nport = 0\n[blob_store.fs]\nroot_dir = "data"\n';
