// Sections whose full validation belongs to later work (`auth`, `event_webhook`,
// `observability`, `global.job_queue`). They are kept raw, never reported as unknown, and only
// the checks that need nothing but the document are made here.
import { ConfigValueError, type TableReader } from './table-reader.ts';
import type { MetadataStoreConfig, RawTable } from './types.ts';

/** Each entry of a named-table section must itself be a table. */
function readNamedRaw(section: TableReader | undefined): void {
  for (const name of section?.keys() ?? []) section!.rawTable(name);
}

export interface LaterTopLevel {
  readonly auth: RawTable | undefined;
  readonly eventWebhook: RawTable | undefined;
  readonly observability: RawTable | undefined;
}

export function readLaterSections(root: TableReader): LaterTopLevel {
  const auth = root.lenientTable('auth');
  readNamedRaw(auth?.lenientTable('webhook'));
  readNamedRaw(auth?.lenientTable('identity'));
  readNamedRaw(auth?.lenientTable('oidc'));
  readNamedRaw(root.lenientTable('event_webhook'));
  return {
    auth: root.rawTable('auth'),
    eventWebhook: root.rawTable('event_webhook'),
    observability: root.rawTable('observability'),
  };
}

/** `[global.job_queue]` moves draining to `angos worker`, which needs a lock shared between processes. */
export function checkJobQueue(global: TableReader | undefined, metadataStore: MetadataStoreConfig): void {
  const jobQueue = global?.lenientTable('job_queue');
  if (jobQueue === undefined) return;
  const refresh = jobQueue.integer('pending_refresh_interval_secs');
  if (refresh !== undefined && refresh < 5) {
    throw new ConfigValueError(`${jobQueue.pathOf('pending_refresh_interval_secs')}: pending_refresh_interval_secs must be at least 5, got ${refresh}`);
  }
  jobQueue.integer('pending_ready_horizon_secs', { min: 0 });
  if (metadataStore.lockStrategy === 'memory') {
    throw new ConfigValueError(
      `${jobQueue.path}: [global.job_queue] needs a lock shared between processes: configure ` +
        `metadata_store.${metadataStore.kind}.lock_strategy.redis or metadata_store.s3.lock_strategy.s3, or remove [global.job_queue]`,
    );
  }
}
