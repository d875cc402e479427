// `[global]` (docs/configuration.md), with its `access_policy`, `retention_policy` and `job_queue` tables.
import { readAccessPolicy } from './access-policy.ts';
import { readJobQueue } from './job-queue-section.ts';
import { readRegexList } from './regex-list.ts';
import { readRetentionPolicy } from './retention-policy.ts';
import { ConfigValueError, TableReader } from './table-reader.ts';
import { parseTrustedProxy } from './trusted-proxy.ts';
import type { GlobalConfig } from './types.ts';

function positiveSize(global: TableReader, key: string, fallback: number): number {
  const bytes = global.size(key) ?? fallback;
  if (bytes === 0) throw new ConfigValueError(`${global.pathOf(key)} must be greater than zero`);
  return bytes;
}

export function readGlobal(root: TableReader): GlobalConfig {
  const global = root.table('global') ?? new TableReader(Object.create(null) as Record<string, unknown>, 'global', root.context);

  const legacyRedirect = global.bool('enable_redirect');
  if (legacyRedirect !== undefined) {
    global.warn(`${global.pathOf('enable_redirect')} is deprecated; use enable_blob_redirect and enable_manifest_redirect`);
  }
  const redirectDefault = legacyRedirect ?? true;

  const trustedProxies = (global.stringArray('trusted_proxies') ?? []).map((entry, index) => {
    try {
      return parseTrustedProxy(entry);
    } catch (error) {
      throw new ConfigValueError(`${global.pathOf('trusted_proxies')}[${index}]: ${(error as Error).message}`);
    }
  });

  const authorizationWebhook = global.string('authorization_webhook');
  const accessPolicy = global.table('access_policy');
  const retentionPolicy = global.table('retention_policy');
  const jobQueue = global.table('job_queue');

  const config: GlobalConfig = {
    maxConcurrentRequests: global.integer('max_concurrent_requests', { min: 1 }) ?? 64,
    maxConcurrentCacheJobs: global.integer('max_concurrent_cache_jobs', { min: 1 }) ?? 4,
    maxConcurrentReplicationJobs: global.integer('max_concurrent_replication_jobs', { min: 1 }) ?? 4,
    maxManifestSize: positiveSize(global, 'max_manifest_size', 5 * 1024 * 1024),
    maxBlobSize: positiveSize(global, 'max_blob_size', 100 * 1024 ** 3),
    updatePullTime: global.bool('update_pull_time') ?? false,
    enableBlobRedirect: global.bool('enable_blob_redirect') ?? redirectDefault,
    enableManifestRedirect: global.bool('enable_manifest_redirect') ?? redirectDefault,
    immutableTags: global.bool('immutable_tags') ?? false,
    immutableTagsExclusions: readRegexList(global, 'immutable_tags_exclusions') ?? [],
    allowMissingManifestReferences: global.bool('allow_missing_manifest_references') ?? true,
    authorizationWebhook: authorizationWebhook === '' ? undefined : authorizationWebhook,
    eventWebhooks: global.stringArray('event_webhooks') ?? [],
    trustedProxies,
    accessPolicy: accessPolicy === undefined ? { default: 'deny', rules: [] } : readAccessPolicy(accessPolicy),
    retentionPolicy: retentionPolicy === undefined ? undefined : readRetentionPolicy(retentionPolicy),
    jobQueue: jobQueue === undefined ? undefined : readJobQueue(jobQueue),
    shutdownDrainSecs: global.integer('shutdown_drain_secs', { min: 0 }) ?? 30,
    gc: {
      graceSecs: global.integer('gc_grace_secs', { min: 0 }) ?? 300,
      intervalSecs: global.integer('gc_interval_secs', { min: 0 }) ?? 3600,
      afterDeleteSecs: global.integer('gc_after_delete_secs', { min: 0 }) ?? 60,
      orphanGrantAgeSecs: global.integer('gc_orphan_grant_age_secs', { min: 0 }) ?? 86_400,
      atimeAuditWindowSecs: global.integer('atime_audit_window_secs', { min: 0 }) ?? 3600,
    },
    retentionIntervalSecs: global.integer('retention_interval_secs', { min: 0 }) ?? 86_400,
  };
  global.finish();
  return config;
}
