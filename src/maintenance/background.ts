// The server's background maintenance (docs/operations.md, "Background maintenance"): orphaned grants revoked and
// unreferenced bytes collected, soon after deletes (debounced) and periodically, never on a request path.
import type { GcConfig } from '../config/types.ts';
import { logger } from '../observability/logging.ts';
import type { RegistryEvent } from '../registry/events.ts';
import { Actions } from './actions.ts';
import { collectBlobs } from './blob-scrub.ts';
import type { MaintenanceContext } from './context.ts';
import { GcTally } from './gc-tally.ts';
import { revokeOrphanGrants } from './orphan-grants.ts';

const log = logger('angos::maintenance::gc');

/** Deletes that can leave bytes nobody holds. */
const FREEING: ReadonlySet<RegistryEvent['kind']> = new Set(['tag-deleted', 'revision-deleted', 'blob-deleted']);

export class BackgroundCollector {
  readonly #context: (actions: Actions) => MaintenanceContext;
  readonly #gc: () => GcConfig;
  #periodic: NodeJS.Timeout | undefined;
  #afterDelete: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  /** A trigger arrived during a run: run once more after it. */
  #again = false;
  #stopped = false;

  /** `context` builds the context of one run over the stores and configuration in force then. */
  constructor(context: (actions: Actions) => MaintenanceContext, gc: () => GcConfig) {
    this.#context = context;
    this.#gc = gc;
  }

  /** Starts the periodic runs (none when `gc_interval_secs = 0`). */
  start(): void {
    this.#schedulePeriodic();
  }

  /**
   * Told of every registry event: a delete schedules a run `gc_after_delete_secs` later, unless one is pending.
   * `gc_interval_secs = 0` turns the background collector off altogether.
   */
  observe(event: RegistryEvent): void {
    if (this.#stopped || !FREEING.has(event.kind) || this.#afterDelete !== undefined || this.#gc().intervalSecs === 0) return;
    this.#afterDelete = setTimeout(() => {
      this.#afterDelete = undefined;
      this.trigger();
    }, this.#gc().afterDeleteSecs * 1000).unref();
  }

  /** Runs now, or once more right after the run in progress. Resolves when that run has finished. */
  trigger(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#runLoop().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Stops scheduling and waits for a run in progress (shutdown). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#periodic);
    clearTimeout(this.#afterDelete);
    await this.#running;
  }

  async #runLoop(): Promise<void> {
    do {
      this.#again = false;
      await this.#runOnce();
    } while (this.#again && !this.#stopped);
  }

  async #runOnce(): Promise<void> {
    const actions = new Actions(false, { quiet: true });
    const tally = new GcTally('background');
    try {
      const context = this.#context(actions);
      await revokeOrphanGrants(context, this.#gc().orphanGrantAgeSecs * 1000, tally);
      await collectBlobs(context, tally);
    } catch (err) {
      tally.errors++;
      log.error('garbage collection run failed', { error: err instanceof Error ? err.message : String(err) });
    }
    tally.finish(false);
  }

  #schedulePeriodic(): void {
    const intervalMs = this.#gc().intervalSecs * 1000;
    if (this.#stopped || intervalMs === 0) return;
    // Jittered by ±10 %, so replicas started together do not collect in lockstep.
    const delay = intervalMs * (0.9 + Math.random() * 0.2);
    this.#periodic = setTimeout(() => {
      void this.trigger().then(() => this.#schedulePeriodic());
    }, delay).unref();
  }
}
