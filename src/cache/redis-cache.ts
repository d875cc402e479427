// `[cache.redis]` (docs/configuration.md, `[cache]`): the registry cache shared by replicas. It connects on first
// use and fails fast while Redis is away (callers treat a failure as a miss), logs each outage once, and recovers
// by itself when Redis returns.
import { createClient } from 'redis';
import { unixSocketUrl } from '../config/cache-section.ts';
import { logger } from '../observability/logging.ts';
import type { Cache } from './cache.ts';

const log = logger('angos::cache::redis');

export interface RedisCacheOptions {
  /** Bound on one GET/SET, so a Redis that accepts connections but never answers cannot stall requests. */
  readonly commandTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
}

type RedisClient = ReturnType<typeof createClient>;

export class RedisCache implements Cache {
  readonly #client: RedisClient;
  readonly #prefix: string;
  readonly #commandTimeoutMs: number;
  #firstAttempt: Promise<void> | undefined;
  #down = false;
  #closed = false;

  /** `url` as validated by the configuration (redis://, rediss://, unix://, redis+unix://); nothing connects yet. */
  constructor(url: string, keyPrefix: string, options: RedisCacheOptions = {}) {
    this.#prefix = keyPrefix;
    this.#commandTimeoutMs = options.commandTimeoutMs ?? 1000;
    this.#client = createClient({
      url: clientUrl(url),
      // Commands issued while disconnected fail at once instead of queueing behind the outage.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: options.connectTimeoutMs ?? 2000,
        // Keep trying for as long as the process runs: recovery must not need a restart.
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
      },
    });
    this.#client.on('error', (err: Error) => this.#failed(err));
    this.#client.on('ready', () => this.#recovered());
  }

  async get(key: string): Promise<string | undefined> {
    const value = await this.#command(() => this.#client.get(this.#prefix + key));
    return value ?? undefined;
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    await this.#command(() => this.#client.set(this.#prefix + key, value, { expiration: { type: 'EX', value: Math.max(1, Math.ceil(ttlSeconds)) } }));
  }

  async delete(key: string): Promise<void> {
    await this.#command(() => this.#client.del(this.#prefix + key));
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (!this.#client.isOpen) return;
    if (this.#client.isReady) {
      try {
        await this.#client.close();
        return;
      } catch {
        // Fall through: a connection that cannot close politely is dropped.
      }
    }
    this.#client.destroy();
  }

  async #command<T>(run: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error('the Redis cache is closed');
    // Every caller waits for the first connection attempt; later ones never wait for a reconnection.
    this.#firstAttempt ??= this.#open();
    await this.#firstAttempt;
    if (!this.#client.isReady) throw new Error('Redis is unavailable');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer within ${this.#commandTimeoutMs} ms`)), this.#commandTimeoutMs);
    });
    try {
      const result = await Promise.race([run(), timeout]);
      this.#recovered();
      return result;
    } catch (err) {
      this.#failed(err as Error);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  #open(): Promise<void> {
    return new Promise<void>((resolve) => {
      const settle = () => {
        this.#client.off('ready', settle);
        this.#client.off('error', settle);
        resolve();
      };
      this.#client.on('ready', settle);
      this.#client.on('error', settle);
      this.#client.connect().catch(settle);
    });
  }

  /** One error line per outage, however many requests and reconnection attempts it spans. */
  #failed(err: Error): void {
    if (this.#down || this.#closed) return;
    this.#down = true;
    log.error('Redis cache unavailable: reads miss and writes are skipped until it returns', { error: err.message });
  }

  #recovered(): void {
    if (!this.#down) return;
    this.#down = false;
    log.info('Redis cache available again');
  }
}

/** The Redis client knows `unix://` but not its `redis+unix://` spelling. */
function clientUrl(url: string): string {
  const socket = /^redis\+unix:/i.test(url) ? unixSocketUrl(url) : undefined;
  if (socket === undefined) return url;
  const userinfo = socket.userinfo === undefined ? '' : `${socket.userinfo}@`;
  return `unix://${userinfo}${socket.path}${socket.db === undefined ? '' : `?db=${socket.db}`}`;
}
