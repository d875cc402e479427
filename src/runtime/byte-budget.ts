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
