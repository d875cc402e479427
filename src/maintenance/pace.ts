// The server's background maintenance yields to requests (docs/operations.md, "Background maintenance"): while
// requests are being served it starts at most one digest every `SERVING_GAP_MS`; on an idle server it runs freely.
import { setTimeout as sleep } from 'node:timers/promises';
import { mapLimited } from '../registry/map-limited.ts';

/**
 * Start-to-start gap between two digests while serving: at most 100 a second. Examining and reclaiming one digest
 * costs the event loop about as much as 15 manifest GETs on the 2-core benchmark machine, so this leaves requests
 * most of it (0.6–0.85× their idle rate in the gc bench), and the collector still works through 6,000 digests a minute.
 */
const SERVING_GAP_MS = 10;

/** What `Pace.run` rejects with once the server is shutting down: the run in progress ends at its next item. */
export class HaltedError extends Error {
  constructor() {
    super('background maintenance halted for shutdown');
  }
}

export class Pace {
  readonly #serving: () => boolean;
  /** When the next item may start while serving (`performance.now()` time). */
  #nextStart = 0;
  #halted = false;

  /** `serving`: whether requests are being served now. */
  constructor(serving: () => boolean) {
    this.#serving = serving;
  }

  /** No item starts any more: shutdown does not wait for a whole run. */
  halt(): void {
    this.#halted = true;
  }

  /** Runs `work`, once its start slot has come while serving, at once otherwise; rejects with `HaltedError` once halted. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#serving()) {
      const now = performance.now();
      const start = Math.max(now, this.#nextStart);
      this.#nextStart = start + SERVING_GAP_MS;
      if (start > now) await sleep(start - now);
    }
    if (this.#halted) throw new HaltedError();
    return work();
  }

  /** `work` over every item, `parallel` at a time, each started as `run` starts it. */
  async each<T>(items: readonly T[], parallel: number, work: (item: T) => Promise<void>): Promise<void> {
    await mapLimited(items, parallel, (item) => this.run(() => work(item)));
  }
}

/** `work` over every item, paced when `pace` is given (the server), else `parallel` at a time (scrub). */
export function forEachPaced<T>(pace: Pace | undefined, items: readonly T[], parallel: number, work: (item: T) => Promise<void>): Promise<unknown> {
  return pace === undefined ? mapLimited(items, parallel, work) : pace.each(items, parallel, work);
}
