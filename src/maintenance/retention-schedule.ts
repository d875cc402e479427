// The server's scheduled retention (docs/operations.md, "Retention policies"): every `retention_interval_secs`, the
// retention pass of `scrub --retention` over every catalogued namespace, when any retention rules are configured.
import { logger } from '../observability/logging.ts';
import { cataloguedNamespaces } from './catalog-walk.ts';
import type { MaintenanceContext } from './context.ts';
import { anyRetentionRules, pullTimeRefusal } from './retention-decision.ts';
import { applyRetention } from './retention.ts';

const log = logger('angos::maintenance::retention');

export interface RetentionSchedule {
  /** No further runs start; a run in progress stops before its next namespace. */
  stop(): void;
}

/**
 * Runs the retention pass every `intervalMs` (±10 %, so replicas started together do not run in lockstep; the first
 * run one interval after start), never two at once. `getContext` is asked at each run, so a reload's configuration
 * and stores apply; undefined skips that run. `intervalMs` 0 schedules nothing. Failures are logged, never thrown.
 */
export function startRetentionSchedule(getContext: () => MaintenanceContext | undefined, intervalMs: number): RetentionSchedule {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    if (stopped || intervalMs <= 0) return;
    timer = setTimeout(() => void runOnce(getContext, () => stopped).finally(schedule), intervalMs * (0.9 + Math.random() * 0.2));
    timer.unref();
  };
  schedule();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** One scheduled run; resolves when it has finished, whatever happened. Exported for tests. */
export async function runOnce(getContext: () => MaintenanceContext | undefined, stopped: () => boolean): Promise<void> {
  try {
    const context = getContext();
    if (context === undefined || !anyRetentionRules(context.config)) return;
    const refusal = pullTimeRefusal(context.config);
    if (refusal !== undefined) {
      log.error(`scheduled retention skipped: ${refusal}`);
      return;
    }
    for await (const ns of cataloguedNamespaces(context)) {
      if (stopped()) return;
      try {
        await applyRetention(context, ns);
      } catch (err) {
        context.actions.failed(`apply retention to '${ns}'`, err);
      }
    }
    log.info(`scheduled retention: ${context.actions.summary()}`);
  } catch (err) {
    log.error('scheduled retention run failed', { error: err instanceof Error ? err.message : String(err) });
  }
}
