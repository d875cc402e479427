// What every maintenance check works with (docs/operations.md, "Background maintenance" and "scrub").
import type { Config } from '../config/types.ts';
import type { Registry } from '../registry/registry.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import type { Actions } from './actions.ts';
import type { Pace } from './pace.ts';

export interface MaintenanceContext {
  readonly config: Config;
  readonly blobStore: ObjectStore;
  readonly metaStore: ObjectStore;
  /** The domain over the same stores: its fresh view, its writes and its delete paths (events fire). */
  readonly registry: Registry;
  readonly actions: Actions;
  /** `[global] gc_grace_secs` in ms: what is younger is live, and every action waits for it. */
  readonly graceMs: number;
  /** Unix ms; a function so tests can move time. */
  readonly now: () => number;
  /** In the server: background work yields to requests in flight. Scrub runs at full speed. */
  readonly pace?: Pace;
}

/**
 * Whether a timestamp is at least `ageMs` old (default: grace); a missing one is young, as every age gate treats it.
 * A time in whole seconds may be truncated (an S3 HEAD's `Last-Modified` is an HTTP date): the object can be up to a
 * second younger than it says, so such a time must be a second older to count.
 */
export function olderThan(context: MaintenanceContext, at: Date | undefined, ageMs = context.graceMs): boolean {
  if (at === undefined) return false;
  const truncation = at.getUTCMilliseconds() === 0 ? 1000 : 0;
  return context.now() - at.getTime() >= ageMs + truncation;
}
