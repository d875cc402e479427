// The one executor of maintenance actions (docs/operations.md, "scrub"): checks describe what they would change, and
// this applies it, or only logs it in a dry run, and counts every outcome for the run's summary.
import { logger } from '../observability/logging.ts';

const log = logger('angos::maintenance::scrub');

/** What an action's `apply` found when it re-validated against fresh state. */
export type Applied = 'applied' | 'skipped';

export interface ActionCounts {
  /** Per kind (`delete orphan blob`, `revoke orphaned blob-ownership grant`, …): actions applied, or previewed in a dry run. */
  readonly done: ReadonlyMap<string, number>;
  /** Actions re-validation found no longer justified. */
  readonly skipped: number;
  /** Actions or checks that failed (each logged at error). */
  readonly failures: number;
}

export class Actions {
  readonly dryRun: boolean;
  /** Per-action lines at debug instead of info: the server's background runs log one line per run. */
  readonly #quiet: boolean;
  readonly #done = new Map<string, number>();
  #skipped = 0;
  #failures = 0;

  constructor(dryRun: boolean, options: { quiet?: boolean } = {}) {
    this.dryRun = dryRun;
    this.#quiet = options.quiet ?? false;
  }

  /**
   * One action of `kind` on `subject`: a dry run logs `DRY RUN: would <kind> <subject>` and changes nothing; a real
   * run logs `<kind> <subject>` and applies it. `apply` re-validates against fresh state first and answers `skipped`
   * when the action is no longer justified. A failure is logged and counted, never thrown: the run goes on.
   */
  async run(kind: string, subject: string, apply: () => Promise<Applied>): Promise<Applied | 'failed'> {
    const description = `${kind} ${subject}`;
    if (this.dryRun) {
      log.info(`DRY RUN: would ${description}`);
      this.#count(kind);
      return 'applied';
    }
    this.#log(description);
    try {
      const outcome = await apply();
      if (outcome === 'skipped') {
        this.#log(`skipped: ${description} (no longer justified)`);
        this.#skipped++;
      } else {
        this.#count(kind);
      }
      return outcome;
    } catch (err) {
      this.failed(description, err);
      return 'failed';
    }
  }

  /** A failure outside an action (a listing, a read), logged at error; the run goes on. */
  failed(what: string, err: unknown): void {
    this.#failures++;
    log.error(`scrub: could not ${what}`, { error: err instanceof Error ? err.message : String(err) });
  }

  counts(): ActionCounts {
    return { done: new Map(this.#done), skipped: this.#skipped, failures: this.#failures };
  }

  /** The run's summary line: actions per kind, skips and failures. */
  summary(): string {
    const kinds = [...this.#done].sort(([a], [b]) => (a < b ? -1 : 1)).map(([kind, n]) => `${kind}: ${n}`);
    const verb = this.dryRun ? 'would apply' : 'applied';
    const parts = kinds.length > 0 ? kinds.join(', ') : 'no actions';
    return `scrub ${verb} ${parts}; skipped ${this.#skipped}; failures ${this.#failures}`;
  }

  #log(line: string): void {
    if (this.#quiet) log.debug(line);
    else log.info(line);
  }

  #count(kind: string): void {
    this.#done.set(kind, (this.#done.get(kind) ?? 0) + 1);
  }
}
