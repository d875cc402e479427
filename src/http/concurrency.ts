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
