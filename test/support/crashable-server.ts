import { startServer, type RunningServer, type StartOptions } from './server.ts';

/** One start of a crashable server: the process and its place in the sequence of restarts. */
export interface Incarnation {
  server: RunningServer;
  generation: number;
}

/**
 * A server on storage that outlives it (`rootDir` and `storageToml` are kept): SIGKILLed and restarted on the same
 * root or bucket prefix. Each start is a new generation, so a client whose connection was cut can tell a kill from
 * a server that dropped it while alive, and wait for the next start.
 */
export class CrashableServer {
  readonly #options: StartOptions & { rootDir: string };
  #current: Incarnation;
  #ready: Promise<Incarnation>;
  /** The newest generation killed on purpose. */
  #killed = -1;

  private constructor(options: StartOptions & { rootDir: string }, server: RunningServer) {
    this.#options = options;
    this.#current = { server, generation: 0 };
    this.#ready = Promise.resolve(this.#current);
  }

  static async start(options: StartOptions & { rootDir: string }): Promise<CrashableServer> {
    return new CrashableServer(options, await startServer(options));
  }

  /** The latest server started (it may be dying). */
  get server(): RunningServer {
    return this.#current.server;
  }

  /** The running server, or the next one once a restart in progress listens. */
  ready(): Promise<Incarnation> {
    return this.#ready;
  }

  /** Whether `generation` was killed on purpose (a connection to it was cut by the test, not dropped by the server). */
  wasKilled(generation: number): boolean {
    return generation <= this.#killed;
  }

  /** The first incarnation after `generation` (call only when `wasKilled(generation)`). */
  async after(generation: number): Promise<Incarnation> {
    let incarnation = await this.#ready;
    while (incarnation.generation <= generation) incarnation = await this.#ready;
    return incarnation;
  }

  /** SIGKILL, then a new server on the same storage; requests sent meanwhile wait in `ready()`. */
  async killAndRestart(): Promise<RunningServer> {
    const dying = this.#current;
    this.#killed = dying.generation;
    this.#ready = (async () => {
      await dying.server.kill();
      this.#current = { server: await startServer(this.#options), generation: dying.generation + 1 };
      return this.#current;
    })();
    return (await this.#ready).server;
  }

  async stop(): Promise<void> {
    await (await this.#ready.catch(() => this.#current)).server.stop();
  }
}
