import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, openSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';

/**
 * `rgw`: the S3 phase's Ceph RADOS Gateway, measured as a reference (a direct GET), never started as a target;
 * `upstream`: likewise the pull-through phase's upstream registry (a direct pull from it).
 */
export type SystemName = 'angos' | 'distribution' | 'nginx' | 'ceiling' | 'rgw' | 'upstream';

/** A server under test, started by the benchmark in its own temp dir on a free loopback port. */
export interface RunningSystem {
  name: SystemName;
  url: string;
  /** The serving process, whose peak RSS is reported. */
  pid: number;
  /** Where the server keeps its data, for a workload that lays data out directly. */
  dataDir?: string;
  /** The configuration file it was started with, for a command run on its data (Distribution's garbage-collect). */
  configFile?: string;
  stop(): Promise<void>;
}

/** A free port on 127.0.0.1 right now (the servers under test cannot all report the port they picked). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const START_TIMEOUT_MS = 30_000;

/**
 * Spawns a server with its output in `<workDir>/<name>.log` and waits until `probePath` answers over HTTP, so
 * the three systems are judged ready the same way. Fails with the log when the process exits first. With
 * `logDirect`, the child writes its log file itself instead of through this process: for a server that logs a lot
 * while the benchmark process generates load (and so a reader of the file sees each line as soon as it is written).
 */
export async function startProcess(
  name: SystemName,
  command: string,
  args: string[],
  options: { workDir: string; port: number; probePath: string; env?: NodeJS.ProcessEnv; logDirect?: boolean },
): Promise<RunningSystem> {
  const logFile = join(options.workDir, `${name}.log`);
  let child: ChildProcess;
  if (options.logDirect) {
    const fd = openSync(logFile, 'a');
    try {
      child = spawn(command, args, { cwd: options.workDir, env: options.env ?? process.env, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
  } else {
    const log = createWriteStream(logFile);
    child = spawn(command, args, { cwd: options.workDir, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
  }
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  let gone = false;
  void exited.then(() => (gone = true));

  const url = `http://127.0.0.1:${options.port}`;
  const giveUp = Date.now() + START_TIMEOUT_MS;
  while (!(await answers(url + options.probePath))) {
    if (gone || Date.now() > giveUp) {
      child.kill('SIGKILL');
      throw new Error(`${name} (${command} ${args.join(' ')}) did not start; see ${logFile}`);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  return { name, url, pid: child.pid!, stop: () => stopChild(child, exited) };
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}
