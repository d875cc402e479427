// The server's background maintenance (docs/operations.md, "Background maintenance"): orphaned grants revoked and
// unreferenced bytes collected, never on a request path. Soon after deletes (debounced), only the digests the
// deletes concern are examined, so the work follows what was deleted, not the size of the store; periodically, every
// digest is.
import type { GcConfig } from '../config/types.ts';
import { manifestReferences } from '../oci/manifest.ts';
import type { Digest } from '../oci/digest.ts';
import { logger } from '../observability/logging.ts';
import type { RegistryEvent } from '../registry/events.ts';
import { listAll } from '../registry/json-record.ts';
import { refKeys } from '../registry/keys.ts';
import { Actions } from './actions.ts';
import { collectBlobs, collectOne } from './blob-scrub.ts';
import type { MaintenanceContext } from './context.ts';
import { GcTally } from './gc-tally.ts';
import { revokeDigestGrants, revokeOrphanGrants } from './orphan-grants.ts';
import { forEachPaced, HaltedError } from './pace.ts';
import { readManifest } from './revision-state.ts';

const log = logger('angos::maintenance::gc');

/** Digests a targeted run examines at once. */
const PARALLEL_DIGESTS = 8;
/** Digests remembered for the next targeted run; past it the next run walks the whole store instead. */
const MAX_CANDIDATES = 100_000;

export class BackgroundCollector {
  readonly #context: (actions: Actions) => MaintenanceContext;
  readonly #gc: () => GcConfig;
  #periodic: NodeJS.Timeout | undefined;
  #afterDelete: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  /** Digests deleted references point at; manifests among them also bring their config, layers and children. */
  #candidates = new Set<Digest>();
  #manifests = new Set<Digest>();
  /** Too many candidates were dropped: the next run walks everything. */
  #walkAll = false;
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
   * Told of every registry event: a delete remembers the digests it concerns and schedules a targeted run
   * `gc_after_delete_secs` later, unless one is pending. `gc_interval_secs = 0` turns the collector off altogether.
   */
  observe(event: RegistryEvent): void {
    if (this.#stopped || this.#gc().intervalSecs === 0) return;
    if (event.kind === 'revision-deleted') this.#remember(event.digest, true);
    else if (event.kind === 'tag-deleted' && event.digest !== undefined) this.#remember(event.digest, true);
    else if (event.kind === 'blob-deleted') this.#remember(event.digest, false);
    else return;
    this.#scheduleAfterDelete(this.#gc().afterDeleteSecs * 1000);
  }

  /** Runs now, or once more right after the run in progress. Resolves when that run has finished. */
  trigger(full = false): Promise<void> {
    if (full) this.#walkAll = true;
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

  #remember(digest: Digest, manifest: boolean): void {
    if (this.#candidates.size >= MAX_CANDIDATES) {
      this.#walkAll = true;
      return;
    }
    this.#candidates.add(digest);
    if (manifest) this.#manifests.add(digest);
  }

  #scheduleAfterDelete(delayMs: number): void {
    if (this.#afterDelete !== undefined || this.#stopped) return;
    this.#afterDelete = setTimeout(() => {
      this.#afterDelete = undefined;
      void this.trigger();
    }, delayMs).unref();
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
    const full = this.#walkAll;
    const candidates = this.#candidates;
    const manifests = this.#manifests;
    this.#walkAll = false;
    this.#candidates = new Set();
    this.#manifests = new Set();
    try {
      const context = this.#context(actions);
      if (full) {
        await revokeOrphanGrants(context, this.#gc().orphanGrantAgeSecs * 1000, tally);
        await collectBlobs(context, tally);
      } else {
        await this.#collectCandidates(context, candidates, manifests, tally);
      }
    } catch (err) {
      if (err instanceof HaltedError) {
        log.info('garbage collection run stopped for shutdown');
      } else {
        tally.errors++;
        log.error('garbage collection run failed', { error: err instanceof Error ? err.message : String(err) });
      }
    }
    tally.finish(false);
  }

  /**
   * The deleted digests, and the config, layers and children of deleted manifests whose bytes are still there:
   * orphaned grants on them revoked, then each offered to the collector. Those that stayed only for being younger
   * than grace are examined again once grace has passed.
   */
  async #collectCandidates(context: MaintenanceContext, candidates: Set<Digest>, manifests: Set<Digest>, tally: GcTally): Promise<void> {
    for (const digest of manifests) {
      const body = await readManifest(context.blobStore, digest);
      if (body.kind === 'parsed') for (const reference of manifestReferences(body.manifest)) candidates.add(reference.digest);
    }
    const grantAgeMs = this.#gc().orphanGrantAgeSecs * 1000;
    const selection = { kind: 'revoke orphaned blob-ownership grant', ageMs: grantAgeMs };
    let retryMs: number | undefined;
    const retry = (digest: Digest, afterMs: number) => {
      this.#remember(digest, false);
      retryMs = Math.min(retryMs ?? afterMs, afterMs);
    };
    await forEachPaced(context.pace, [...candidates].sort(), PARALLEL_DIGESTS, async (digest) => {
      try {
        const grants = await revokeDigestGrants(context, digest, await listAll(context.metaStore, refKeys.digest(digest)), selection, tally);
        // A grant that will be orphaned before the next periodic run is worth a run of its own then.
        const dueMs = Math.max(grantAgeMs, context.graceMs) + 1000;
        if (grants.young && dueMs < this.#gc().intervalSecs * 1000) retry(digest, dueMs);
      } catch (err) {
        tally.errors++;
        context.actions.failed(`check grants of '${digest}'`, err);
      }
      if (await collectOne(context, digest, tally)) retry(digest, context.graceMs + 1000);
    });
    if (retryMs !== undefined) this.#scheduleAfterDelete(retryMs);
  }

  #schedulePeriodic(): void {
    const intervalMs = this.#gc().intervalSecs * 1000;
    if (this.#stopped || intervalMs === 0) return;
    // Jittered by ±10 %, so replicas started together do not collect in lockstep.
    const delay = intervalMs * (0.9 + Math.random() * 0.2);
    this.#periodic = setTimeout(() => {
      void this.trigger(true).then(() => this.#schedulePeriodic());
    }, delay).unref();
  }
}
