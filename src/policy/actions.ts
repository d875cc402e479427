/** CEL action names (docs/api.md, "Routing"); the access policy and later the webhooks see these. */
export type Action =
  | 'get-api-version'
  | 'list-catalog'
  | 'get-blob'
  | 'delete-blob'
  | 'start-upload'
  | 'mount-blob'
  | 'get-upload'
  | 'update-upload'
  | 'complete-upload'
  | 'cancel-upload'
  | 'get-manifest'
  | 'put-manifest'
  | 'delete-manifest'
  | 'list-tags'
  | 'get-referrers'
  | 'healthz'
  | 'readyz'
  | 'metrics'
  | 'get-token'
  | 'ui-asset'
  | 'ui-config'
  | 'list-repositories'
  | 'list-namespaces'
  | 'list-revisions'
  | 'list-uploads'
  | 'list-jobs'
  | 'list-failed-jobs'
  | 'retry-job'
  | 'delete-job';

/** Refused on pull-through repositories (docs/api.md, "Request processing"). */
export const PUSH_ACTIONS: ReadonlySet<Action> = new Set([
  'start-upload',
  'mount-blob',
  'update-upload',
  'complete-upload',
  'cancel-upload',
  'put-manifest',
]);

/** Actions the `ns` query parameter may rewrite (docs/api.md, "The ns parameter"). */
export const PULL_ACTIONS: ReadonlySet<Action> = new Set(['get-blob', 'get-manifest', 'list-tags', 'get-referrers']);

/** Never wait for a concurrency slot (docs/operations.md, "Concurrency"). */
export const UNCAPPED_ACTIONS: ReadonlySet<Action> = new Set(['healthz', 'readyz', 'metrics']);
