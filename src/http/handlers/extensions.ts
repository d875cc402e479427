import type { Config, RepositoryConfig } from '../../config/types.ts';
import { OciError } from '../../oci/errors.ts';
import { parseNamespace, type Namespace } from '../../oci/name.ts';
import type { RevisionSummary } from '../../registry/revision-listing.ts';
import type { HttpContext } from '../context.ts';
import { sendJson } from '../respond.ts';
import type { PullTarget } from '../router.ts';

/** Most entries `pulls/list` shows; the history is unpaged. */
const MAX_PULL_ENTRIES = 100;

/** GET /v2/_angos/repositories/list: configured repositories by name (docs/api.md, "Extension API"). */
export async function listRepositories({ req, res, registry, config }: HttpContext): Promise<void> {
  const repositories = [];
  for (const repo of [...config.repositories].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const root = parseNamespace(repo.name);
    repositories.push({
      name: repo.name,
      namespace_count: root ? (await registry.inventory.namespaces(root)).length : 0,
      pull_through_cache: repo.upstreams.length > 0,
      immutable_tags: immutableTags(config, repo),
    });
  }
  sendJson(req, res, 200, { repositories });
}

/** GET /v2/_angos/namespaces/list?repository=<r>. */
export async function listNamespaces({ req, res, registry, config }: HttpContext, repository: string): Promise<void> {
  const repo = config.repositories.find((r) => r.name === repository);
  const root = repo && parseNamespace(repo.name);
  if (!repo || !root) throw new OciError('NAME_UNKNOWN', `repository '${repository}' is not configured`);
  const summaries = await registry.inventory.summaries(root);
  const exclusions = repo.immutableTagsExclusions.length > 0 ? repo.immutableTagsExclusions : config.global.immutableTagsExclusions;
  sendJson(req, res, 200, {
    repository: repo.name,
    namespaces: summaries.map((s) => ({ name: s.name, tag_count: s.tagCount, manifest_count: s.manifestCount, upload_count: s.uploadCount })),
    pull_through_cache: repo.upstreams.length > 0,
    upstream_urls: repo.upstreams.map((upstream) => upstream.url),
    immutable_tags: immutableTags(config, repo),
    immutable_tags_exclusions: exclusions.map((pattern) => pattern.source),
  });
}

/** GET /v2/<name>/_angos/revisions/list. */
export async function listRevisions({ req, res, registry }: HttpContext, ns: Namespace): Promise<void> {
  const revisions = await registry.revisionListing.list(ns);
  sendJson(req, res, 200, { name: ns, manifests: revisions.map(revisionBody) });
}

/** GET /v2/<name>/_angos/uploads/list. */
export async function listUploads({ req, res, registry }: HttpContext, ns: Namespace): Promise<void> {
  const sessions = await registry.uploadListing.sessions(ns);
  sendJson(req, res, 200, { name: ns, uploads: sessions.map((s) => ({ uuid: s.id, size: s.size, started_at: s.startedAt })) });
}

/**
 * GET /v2/<name>/_angos/pulls/list: the target's recorded pulls within `atime_audit_window_secs`, newest first;
 * none while `update_pull_time` is off (docs/api.md, "Extension API").
 */
export async function listPulls({ req, res, registry, config }: HttpContext, ns: Namespace, target: PullTarget): Promise<void> {
  const windowSecs = config.global.gc.atimeAuditWindowSecs;
  const history = registry.pullHistory;
  const entries = history.recording
    ? await history.entries(ns, target.kind === 'tag' ? target : { kind: 'revision', digest: target.digest }, { limit: MAX_PULL_ENTRIES, since: Date.now() - windowSecs * 1000 })
    : [];
  sendJson(req, res, 200, {
    target: target.kind === 'tag' ? target.tag : target.digest,
    window_secs: windowSecs,
    entries: entries.map((entry) => ({ client: entry.client, at: new Date(entry.at).toISOString() })),
  });
}

/** GET /v2/_angos/ui/config: 404 while the UI is off. */
export function uiConfig({ req, res, config }: HttpContext): void {
  if (!config.ui.enabled) throw new OciError('NAME_UNKNOWN', 'the web UI is disabled');
  sendJson(req, res, 200, { name: config.ui.name });
}

/** Repository OR global. */
function immutableTags(config: Config, repo: RepositoryConfig): boolean {
  return repo.immutableTags || config.global.immutableTags;
}

/** Empty and unknown fields are omitted, never `null`. */
function revisionBody(revision: RevisionSummary): Record<string, unknown> {
  const body: Record<string, unknown> = { digest: revision.digest, tags: revision.tags };
  if (revision.parents.length > 0) body.parents = revision.parents;
  if (revision.referrers.length > 0) body.referrers = revision.referrers;
  if (revision.referrersNext !== undefined) body.referrers_next = revision.referrersNext;
  if (revision.pushedAt !== undefined) body.pushed_at = revision.pushedAt;
  if (revision.lastPulledAt !== undefined) body.last_pulled_at = revision.lastPulledAt;
  return body;
}
