/** What the limit reports as it changes: slots held and requests queued (the `angos_http_concurrency_*` gauges). */
export interface LimitGauges {
  inUse(count: number): void;
  waiting(count: number): void;
}

/** What a slot is tied to: a request's response, which reports when it has closed (finished, or the client left). */
export interface Closing {
  readonly closed: boolean;
  once(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

/**
 * At most `limit` holders at once; the rest wait in arrival order, never rejected (docs/operations.md,
 * "Concurrency"). A slot is tied to the response that holds it: a waiter whose response closes leaves the queue
 * without ever taking a slot, and a holder's slot comes back when its response closes, so a client that gives up
 * can never keep one.
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

  /** Resolves once a slot is held until `holder` closes: true, or false when it closed while still queued. */
  async acquire(holder: Closing): Promise<boolean> {
    if (holder.closed) return false;
    if (this.#active < this.#limit) this.#take();
    else if (!(await this.#queue(holder))) return false;
    holder.once('close', () => this.#release());
    return true;
  }

  #queue(holder: Closing): Promise<boolean> {
    return new Promise((resolve) => {
      const granted = () => {
        holder.off('close', leave);
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
      holder.once('close', leave);
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
