import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { freePort } from './free-port.ts';

export interface RunningRedis {
  port: number;
  /** `redis://127.0.0.1:<port>` */
  url: string;
  process: ChildProcess;
  /** SIGKILL: an outage as abrupt as a crash. */
  kill(): Promise<void>;
}

export interface RedisOptions {
  /** The port of a killed instance, to bring Redis back where clients expect it; a free one otherwise. */
  port?: number;
  /** Also listen on this unix socket path. */
  unixSocket?: string;
}

/** A throw-away `redis-server` on loopback with persistence off, ready to serve when this resolves. */
export async function startRedis(options: RedisOptions = {}): Promise<RunningRedis> {
  const chosen = options.port ?? (await freePort());
  const socketArgs = options.unixSocket === undefined ? [] : ['--unixsocket', options.unixSocket];
  const child = spawn('redis-server', ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...socketArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      output += `${line}\n`;
      // Redis 7.0 prints `Ready to accept connections` for TCP, `ready to accept connections at <path>` for sockets.
      if (/ready to accept connections/i.test(line)) resolve();
    });
    void exited.then(() => reject(new Error(`redis-server exited before it was ready:\n${output}`)));
  });
  return {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    process: child,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
