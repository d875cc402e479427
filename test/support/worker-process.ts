// `angos worker` as a child process (docs/operations.md, "Job queue"), for the e2e files that watch it drain: its
// JSON log lines as they come, SIGTERM (a clean stop) and SIGKILL (a crash).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { cliMain, nodeBin } from './server.ts';

export interface WorkerLog {
  timestamp: string;
  level: string;
  fields: Record<string, unknown>;
}

export interface RunningWorker {
  readonly pid: number;
  /** Every JSON log line printed so far, in order. */
  readonly logs: WorkerLog[];
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  stderr(): string;
  /** SIGTERM, and the exit code once it exited. */
  stop(): Promise<number | null>;
  /** SIGKILL, and wait for the process to be gone. */
  kill(): Promise<void>;
}

/** `angos -c <configPath> worker --poll-interval 100ms <args>` with RUST_LOG=info. */
export function startWorker(configPath: string, args: string[] = [], pollInterval = '100ms'): RunningWorker {
  const child = spawn(nodeBin, [cliMain, '-c', configPath, 'worker', '--poll-interval', pollInterval, ...args], { env: { ...process.env, RUST_LOG: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: WorkerLog[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith('{')) logs.push(JSON.parse(line) as WorkerLog);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    pid: child.pid!,
    logs,
    exited,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export const logMessage = (log: WorkerLog): string => String(log.fields.message);

/** The log lines with this message (and this `lock_key`, when given). */
export function logsOf(worker: RunningWorker, message: string, lockKey?: string): WorkerLog[] {
  return worker.logs.filter((log) => logMessage(log) === message && (lockKey === undefined || log.fields.lock_key === lockKey));
}

/** Polls `probe` every 50 ms until it returns a value, failing after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
