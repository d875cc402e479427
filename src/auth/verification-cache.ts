// Argon2 is deliberately slow (tens of milliseconds); a client pushing a large image sends its Basic credentials
// on every one of hundreds of requests. Successful checks are remembered briefly so only the first pays.
import { createHmac, randomBytes } from 'node:crypto';

export interface VerificationCacheOptions {
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
}

export class VerificationCache {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  // Keys are keyed hashes, so the map never holds a password nor a fast hash an attacker could brute-force.
  readonly #secret = randomBytes(32);
  /** Key → expiry (ms), in insertion order so the oldest is evicted first. */
  readonly #verified = new Map<string, number>();
  /** Identical checks running right now share one Argon2 computation. */
  readonly #pending = new Map<string, Promise<boolean>>();

  constructor(options: VerificationCacheOptions) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Whether `password` matches `phc` for `username`, running `check` only when no recent success is cached.
   * The hash is part of the key, so a changed password hash is never answered from the cache.
   */
  async verify(username: string, password: string, phc: string, check: () => Promise<boolean>): Promise<boolean> {
    const key = this.#key(username, password, phc);
    const expiry = this.#verified.get(key);
    if (expiry !== undefined) {
      if (expiry > this.#now()) return true;
      this.#verified.delete(key);
    }
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      pending = check().finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    const ok = await pending;
    // Failures are never cached: each wrong guess must keep costing a full Argon2 computation.
    if (ok) this.#remember(key);
    return ok;
  }

  #remember(key: string): void {
    this.#verified.delete(key);
    while (this.#verified.size >= this.#maxEntries) {
      const oldest = this.#verified.keys().next().value;
      if (oldest === undefined) break;
      this.#verified.delete(oldest);
    }
    this.#verified.set(key, this.#now() + this.#ttlMs);
  }

  #key(username: string, password: string, phc: string): string {
    const mac = createHmac('sha256', this.#secret);
    // Length prefixes keep ('a:b', 'c') and ('a', 'b:c') apart.
    for (const part of [username, password, phc]) {
      const bytes = Buffer.from(part, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      mac.update(length).update(bytes);
    }
    return mac.digest('base64');
  }
}
