// What one collector run did, for its log line and the `angos_gc_*` metrics (docs/operations.md, "Metrics").
import { logger } from '../observability/logging.ts';
import { gcBytesReclaimedTotal, gcDigestsTotal, gcGrantsRevokedTotal, gcRunsTotal } from '../observability/metrics.ts';

const log = logger('angos::maintenance::gc');

export type GcTrigger = 'background' | 'scrub';

export class GcTally {
  readonly trigger: GcTrigger;
  readonly #started = Date.now();
  examined = 0;
  reclaimed = 0;
  bytes = 0;
  /** Skipped as live: still referenced, owned, or young. */
  live = 0;
  grantsRevoked = 0;
  errors = 0;

  constructor(trigger: GcTrigger) {
    this.trigger = trigger;
  }

  /** Logs the run's line and adds it to the metrics (a dry run changes nothing, so it counts nowhere). */
  finish(dryRun: boolean): void {
    const fields = {
      trigger: this.trigger,
      dry_run: dryRun,
      digests_examined: this.examined,
      blobs_reclaimed: this.reclaimed,
      bytes_reclaimed: this.bytes,
      skipped_live: this.live,
      grants_revoked: this.grantsRevoked,
      errors: this.errors,
      duration_ms: Date.now() - this.#started,
    };
    if (this.errors > 0) log.warn('garbage collection run finished', fields);
    else log.info('garbage collection run finished', fields);
    if (dryRun) return;
    const trigger = this.trigger;
    gcRunsTotal.inc({ trigger, outcome: this.errors > 0 ? 'error' : 'ok' });
    gcDigestsTotal.inc({ trigger, result: 'reclaimed' }, this.reclaimed);
    gcDigestsTotal.inc({ trigger, result: 'live' }, this.live);
    gcDigestsTotal.inc({ trigger, result: 'error' }, this.errors);
    gcBytesReclaimedTotal.inc({ trigger }, this.bytes);
    gcGrantsRevokedTotal.inc({ trigger }, this.grantsRevoked);
  }
}
