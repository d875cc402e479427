/** What the limit reports as it changes: slots held and requests queued (the `angos_http_concurrency_*` gauges). */
export interface LimitGauges {
  inUse(count: number): void;
  waiting(count: number): void;
}

/**
 * At most `limit` holders at once; the rest wait in arrival order, never rejected (docs/operations.md,
 * "Concurrency"). A slot is tied to an abort signal (the response's close): a waiter whose signal fires leaves the
 * queue without ever taking a slot, and a holder's slot comes back when its signal fires, so a client that gives
 * up can never keep one.
 */
export class ConcurrencyLimit {
  readonly #limit: number;
  readonly #gauges: LimitGauges;
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number, gauges: LimitGauges) {
    this.#limit = limit;
    this.#gauges = gauges;
  }

  /** Resolves once a slot is held until `done` fires: true, or false when `done` fired while still queued. */
  async acquire(done: AbortSignal): Promise<boolean> {
    if (done.aborted) return false;
    if (this.#active < this.#limit) this.#take();
    else if (!(await this.#queue(done))) return false;
    done.addEventListener('abort', () => this.#release(), { once: true });
    return true;
  }

  #queue(done: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const granted = () => {
        done.removeEventListener('abort', leave);
        resolve(true);
      };
      const leave = () => {
        const index = this.#waiting.indexOf(granted);
        if (index !== -1) this.#waiting.splice(index, 1);
        this.#gauges.waiting(this.#waiting.length);
        resolve(false);
      };
      this.#waiting.push(granted);
      this.#gauges.waiting(this.#waiting.length);
      done.addEventListener('abort', leave, { once: true });
    });
  }

  #take(): void {
    this.#active++;
    this.#gauges.inUse(this.#active);
  }

  /** Hands the slot to the next waiter, or frees it. */
  #release(): void {
    const next = this.#waiting.shift();
    if (next) {
      this.#gauges.waiting(this.#waiting.length);
      next();
      return;
    }
    this.#active--;
    this.#gauges.inUse(this.#active);
  }
}

/**
 * At most `capacity` bytes held at once; the rest wait in arrival order, never rejected. A request for more than
 * the capacity is held as the whole capacity (it waits for everything else, then runs alone).
 */
export class ByteBudget {
  private readonly capacity: number;
  private available: number;
  private readonly waiting: Array<{ bytes: number; grant: () => void }> = [];

  constructor(capacity: number) {
    this.capacity = capacity;
    this.available = capacity;
  }

  /** Resolves with a release function once `bytes` are available. Call it exactly once. */
  async acquire(bytes: number): Promise<() => void> {
    const held = Math.min(Math.max(bytes, 0), this.capacity);
    if (this.waiting.length === 0 && held <= this.available) this.available -= held;
    else await new Promise<void>((grant) => this.waiting.push({ bytes: held, grant }));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.available += held;
      this.grantWaiting();
    };
  }

  private grantWaiting(): void {
    while (this.waiting.length > 0 && this.waiting[0]!.bytes <= this.available) {
      const next = this.waiting.shift()!;
      this.available -= next.bytes;
      next.grant();
    }
  }
}
