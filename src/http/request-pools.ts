import type { ServerResponse } from 'node:http';
import { httpConcurrencyInUse, httpConcurrencyWaiting } from '../observability/metrics.ts';
import { UNCAPPED_ACTIONS, type Action } from '../policy/actions.ts';
import { ConcurrencyLimit, type LimitGauges } from './concurrency.ts';

/** Requests that stream a body into the server: they wait on their own pool, so slow uploads never starve pulls. */
const BODY_ACTIONS: ReadonlySet<Action> = new Set(['start-upload', 'update-upload', 'complete-upload', 'put-manifest']);

type Pool = 'uploads' | 'requests';

/**
 * `max_concurrent_requests` as two pools of that size (docs/operations.md, "Concurrency"): requests streaming a
 * body, and all others. Health, readiness and metrics never wait.
 */
export class RequestPools {
  readonly #pools: Record<Pool, ConcurrencyLimit>;

  constructor(limit: number) {
    this.#pools = { uploads: new ConcurrencyLimit(limit, gauges('uploads')), requests: new ConcurrencyLimit(limit, gauges('requests')) };
  }

  /** Holds a slot for the request until its response closes; false when the client left while it was queued. */
  admit(action: Action, res: ServerResponse): Promise<boolean> | true {
    if (UNCAPPED_ACTIONS.has(action)) return true;
    return this.#pools[BODY_ACTIONS.has(action) ? 'uploads' : 'requests'].acquire(res);
  }
}

function gauges(pool: Pool): LimitGauges {
  httpConcurrencyInUse.set({ pool }, 0);
  httpConcurrencyWaiting.set({ pool }, 0);
  return { inUse: (count) => httpConcurrencyInUse.set({ pool }, count), waiting: (count) => httpConcurrencyWaiting.set({ pool }, count) };
}
