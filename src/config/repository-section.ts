// `[repository."<namespace>"]` (docs/configuration.md) with its upstream and downstream arrays.
import { readAccessPolicy } from './access-policy.ts';
import { NAMESPACE } from './namespace-grammar.ts';
import { readRegexList } from './regex-list.ts';
import { parseRemoteUrl, RemoteUrlError, type RemoteUrl } from './remote-url.ts';
import { readRetentionPolicy } from './retention-policy.ts';
import { ConfigValueError, type TableReader } from './table-reader.ts';
import type { DownstreamConfig, DownstreamMode, RemoteClientConfig, RepositoryConfig, UpstreamConfig } from './types.ts';

const DOWNSTREAM_MODES: readonly DownstreamMode[] = ['event+reconcile', 'event-only', 'reconcile-only'];

/** Whether `namespace` is governed by repository key `name` (equal, or below it at a `/`). */
export function belongsTo(namespace: string, name: string): boolean {
  return namespace === name || namespace.startsWith(`${name}/`);
}

function readUrl(entry: TableReader): { url: string } & RemoteUrl {
  const url = entry.requiredString('url');
  try {
    return { url, ...parseRemoteUrl(url) };
  } catch (error) {
    if (error instanceof RemoteUrlError) entry.fail('url', error.message);
    throw error;
  }
}

function readRemoteClient(entry: TableReader): RemoteClientConfig {
  const { url, origin, namespacePath } = readUrl(entry);
  const clientCertificate = entry.string('client_certificate');
  const clientPrivateKey = entry.string('client_private_key');
  if ((clientCertificate === undefined) !== (clientPrivateKey === undefined)) {
    throw new ConfigValueError(`${entry.path}: both client_certificate and client_private_key are required for mTLS`);
  }
  let username = entry.string('username');
  let password = entry.string('password', { secret: true });
  if ((username === undefined) !== (password === undefined)) {
    entry.warn(`${entry.path}: username and password must be set together; connecting anonymously`);
    username = undefined;
    password = undefined;
  }
  return {
    url,
    origin,
    namespacePath,
    serverCaBundle: entry.string('server_ca_bundle'),
    clientCertificate,
    clientPrivateKey,
    username,
    password,
    connectTimeoutSecs: entry.integer('connect_timeout_secs', { min: 1 }) ?? 30,
    readTimeoutSecs: entry.integer('read_timeout_secs', { min: 1 }) ?? 300,
    maxRedirect: entry.integer('max_redirect', { min: 0, max: 255 }) ?? 5,
  };
}

function readUpstream(entry: TableReader): UpstreamConfig {
  const config = readRemoteClient(entry);
  entry.finish();
  return config;
}

function readDownstream(entry: TableReader): DownstreamConfig {
  const name = entry.requiredString('name');
  if (name === '') throw new ConfigValueError(`${entry.pathOf('name')} must not be empty`);
  const mode = entry.string('mode') ?? 'event+reconcile';
  if (!(DOWNSTREAM_MODES as readonly string[]).includes(mode)) {
    entry.fail('mode', `expected one of ${DOWNSTREAM_MODES.map((m) => `'${m}'`).join(', ')}, got '${mode}'`);
  }
  const config: DownstreamConfig = {
    ...readRemoteClient(entry),
    name,
    mode: mode as DownstreamMode,
    namespaceFilter: readRegexList(entry, 'namespace_filter') ?? [],
    maxConcurrentPushes: entry.integer('max_concurrent_pushes', { min: 1 }) ?? 4,
    prune: entry.bool('prune') ?? false,
  };
  entry.finish();
  return config;
}

function readRepository(name: string, repository: TableReader): RepositoryConfig {
  const namespace = repository.string('namespace');
  const accessPolicy = repository.table('access_policy');
  const retentionPolicy = repository.table('retention_policy');
  const upstreams = (repository.tableArray('upstream') ?? []).map(readUpstream);
  const downstreams = (repository.tableArray('downstream') ?? []).map(readDownstream);
  const seen = new Set<string>();
  for (const downstream of downstreams) {
    if (seen.has(downstream.name)) throw new ConfigValueError(`${repository.pathOf('downstream')}: duplicate downstream name '${downstream.name}'`);
    seen.add(downstream.name);
  }
  const config: RepositoryConfig = {
    name,
    namespace: namespace === undefined || namespace === '' ? undefined : namespace.toLowerCase(),
    immutableTags: repository.bool('immutable_tags') ?? false,
    immutableTagsExclusions: readRegexList(repository, 'immutable_tags_exclusions') ?? [],
    authorizationWebhook: repository.string('authorization_webhook'),
    eventWebhooks: repository.stringArray('event_webhooks'),
    accessPolicy: accessPolicy === undefined ? undefined : readAccessPolicy(accessPolicy),
    retentionPolicy: retentionPolicy === undefined ? undefined : readRetentionPolicy(retentionPolicy),
    upstreams,
    downstreams,
  };
  repository.finish();
  return config;
}

function checkOverlaps(repositories: readonly RepositoryConfig[]): void {
  for (const [index, a] of repositories.entries()) {
    for (const b of repositories.slice(index + 1)) {
      if (belongsTo(a.name, b.name) || belongsTo(b.name, a.name)) {
        const [outer, inner] = a.name.length <= b.name.length ? [a.name, b.name] : [b.name, a.name];
        throw new ConfigValueError(`repository prefixes overlap: '${outer}' and '${inner}'`);
      }
      if (a.namespace !== undefined && a.namespace === b.namespace) {
        throw new ConfigValueError(`repositories '${a.name}' and '${b.name}' both mirror the namespace '${a.namespace}'`);
      }
    }
  }
}

export function readRepositories(root: TableReader): RepositoryConfig[] {
  const repositories = root.namedTables('repository').map(([name, table]) => {
    if (!NAMESPACE.test(name)) throw new ConfigValueError(`${table.path}: repository name '${name}' is not a valid namespace`);
    return readRepository(name, table);
  });
  checkOverlaps(repositories);
  return repositories;
}
