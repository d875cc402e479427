import { isDigest, parseAlgorithm, type Digest, type DigestAlgorithm } from '../oci/digest.ts';
import { OciError, UnmatchedError } from '../oci/errors.ts';
import { isMediaType } from '../oci/media-type.ts';
import { parseNamespace, type Namespace } from '../oci/name.ts';
import { parseReference, type Reference } from '../oci/reference.ts';
import { parseSessionId, type SessionId } from '../oci/session-id.ts';
import { isTag, type Tag } from '../oci/tag.ts';
import type { Action } from '../policy/actions.ts';
import { isJobQueueName, isStorableNamespace, jobKeys, MAX_STORED_LAST_COMPONENT, type JobQueueName } from '../registry/keys.ts';

/** A request matched to one action, every path piece and query value already parsed (docs/api.md, "Routing"). */
export type Route =
  | { action: 'get-api-version' | 'healthz' | 'readyz' | 'metrics' | 'get-token' | 'list-repositories' | 'ui-config' }
  | { action: 'ui-asset'; path: string }
  | { action: 'list-catalog'; n: number; last: string | undefined }
  | { action: 'get-blob' | 'delete-blob'; ns: Namespace; digest: Digest }
  | { action: 'start-upload'; ns: Namespace; digest: Digest | undefined; algorithm: DigestAlgorithm | undefined }
  | { action: 'mount-blob'; ns: Namespace; mount: Digest; from: Namespace | undefined }
  | { action: 'get-upload' | 'update-upload' | 'cancel-upload'; ns: Namespace; session: SessionId }
  | { action: 'complete-upload'; ns: Namespace; session: SessionId; digest: Digest }
  | { action: 'get-manifest' | 'delete-manifest'; ns: Namespace; reference: Reference }
  | { action: 'put-manifest'; ns: Namespace; reference: Reference; tags: Tag[] }
  | { action: 'list-tags'; ns: Namespace; n: number; last: string | undefined }
  | { action: 'get-referrers'; ns: Namespace; digest: Digest; artifactType: string | undefined; last: string | undefined }
  | { action: 'list-namespaces'; repository: string }
  /** `pulls` set: `pulls/list`, which shares the action of `revisions/list`. */
  | { action: 'list-revisions'; ns: Namespace; pulls: PullTarget | undefined }
  | { action: 'list-uploads'; ns: Namespace }
  | { action: 'list-jobs' | 'list-failed-jobs'; queue: JobQueue; n: number; after: string | undefined }
  | { action: 'retry-job'; queue: JobQueue; key: string }
  | { action: 'delete-job'; queue: JobQueue; state: 'pending' | 'failed'; key: string };

export type JobQueue = JobQueueName;

/** What `pulls/list` asks about: exactly one of `?tag=` and `?digest=`. */
export type PullTarget = { kind: 'tag'; tag: Tag } | { kind: 'digest'; digest: Digest };

export type NamespacedRoute = Extract<Route, { ns: Namespace }>;

const DEFAULT_PAGE = 100;
/** `?tag=` values one manifest push may carry (docs/api.md, "Manifests"): bounds the work of a single request. */
export const MAX_TAGS_PER_PUSH = 100;

/**
 * Matches a request; throws `UnmatchedError` (docs/api.md, "Routing"), for referrers `DIGEST_INVALID`, and
 * `NAME_INVALID` for a name the grammar accepts but storage cannot hold.
 */
export function matchRoute(method: string, url: string): Route & { action: Action } {
  const route = matchAny(method, url);
  for (const ns of [(route as { ns?: Namespace }).ns, (route as { from?: Namespace }).from]) {
    if (ns !== undefined) assertStorable(ns);
  }
  return route;
}

/** Refuses a valid name whose last component is too long for the storage layout (`src/registry/keys.ts`). */
export function assertStorable(ns: Namespace): void {
  if (!isStorableNamespace(ns)) {
    throw new OciError('NAME_INVALID', `the last component of a repository name may be at most ${MAX_STORED_LAST_COMPONENT} characters`);
  }
}

function matchAny(method: string, url: string): Route & { action: Action } {
  const question = url.indexOf('?');
  const path = question === -1 ? url : url.slice(0, question);
  const query = new Query(question === -1 ? '' : url.slice(question + 1));
  const read = method === 'GET' || method === 'HEAD';

  switch (path) {
    case '/healthz':
    case '/readyz':
    case '/metrics':
    case '/token':
      if (method === 'GET') return { action: path === '/token' ? 'get-token' : (path.slice(1) as 'healthz' | 'readyz' | 'metrics') };
      if (method !== 'HEAD' || path === '/token') throw new UnmatchedError(`${method} ${path}`);
      return { action: 'ui-asset', path };
    case '/v2':
    case '/v2/':
      if (read) return { action: 'get-api-version' };
      throw new UnmatchedError(`${method} ${path}`);
    case '/v2/_catalog':
      if (method === 'GET') return { action: 'list-catalog', n: query.pageSize(), last: query.single('last') };
      throw new UnmatchedError(`${method} ${path}`);
  }
  if (path.startsWith('/v2/')) return matchNamespaced(method, path.slice(4), query);
  if (read) return { action: 'ui-asset', path };
  throw new UnmatchedError(`${method} ${path}`);
}

/** `/v2/<name>/…`: the rightmost marker wins, so `blobs`, `manifests` and `tags` may be name components. */
function matchNamespaced(method: string, rest: string, query: Query): Route & { action: Action } {
  const extension = rest.startsWith('_angos/')
    ? matchRegistryExtension(method, rest.slice('_angos/'.length), query)
    : matchNamespaceExtension(method, rest, query);
  if (extension) return extension;

  const uploadStart = stripSuffix(rest, '/blobs/uploads/') ?? stripSuffix(rest, '/blobs/uploads');
  const uploadStartNs = uploadStart === undefined ? undefined : parseNamespace(uploadStart);
  if (uploadStartNs && method === 'POST') return startUpload(uploadStartNs, query);

  const upload = splitLast(rest, '/blobs/uploads/');
  const uploadNs = upload && parseNamespace(upload.name);
  const session = upload && parseSessionId(upload.piece);
  if (uploadNs && session) {
    switch (method) {
      case 'GET':
        return { action: 'get-upload', ns: uploadNs, session };
      case 'PATCH':
        return { action: 'update-upload', ns: uploadNs, session };
      case 'PUT':
        return { action: 'complete-upload', ns: uploadNs, session, digest: query.digest('digest', true)! };
      case 'DELETE':
        return { action: 'cancel-upload', ns: uploadNs, session };
    }
    throw new UnmatchedError(`${method} upload`);
  }

  const blob = splitLast(rest, '/blobs/');
  const blobNs = blob && parseNamespace(blob.name);
  if (blobNs && blob && isDigest(blob.piece)) {
    if (method === 'GET' || method === 'HEAD') return { action: 'get-blob', ns: blobNs, digest: blob.piece };
    if (method === 'DELETE') return { action: 'delete-blob', ns: blobNs, digest: blob.piece };
    throw new UnmatchedError(`${method} blob`);
  }

  const manifest = splitLast(rest, '/manifests/');
  const manifestNs = manifest && parseNamespace(manifest.name);
  const reference = manifest && parseReference(manifest.piece);
  if (manifestNs && reference) {
    switch (method) {
      case 'GET':
      case 'HEAD':
        return { action: 'get-manifest', ns: manifestNs, reference };
      case 'DELETE':
        return { action: 'delete-manifest', ns: manifestNs, reference };
      case 'PUT':
        return { action: 'put-manifest', ns: manifestNs, reference, tags: query.tags() };
    }
    throw new UnmatchedError(`${method} manifest`);
  }

  const referrers = splitLast(rest, '/referrers/');
  const referrersNs = referrers && parseNamespace(referrers.name);
  if (referrersNs && referrers && method === 'GET') {
    // Referrers never answer 404: a bad digest or filter is DIGEST_INVALID.
    if (!isDigest(referrers.piece)) throw new OciError('DIGEST_INVALID', 'invalid subject digest');
    const artifactTypes = query.all('artifactType');
    const artifactType = artifactTypes[0];
    if (artifactTypes.length > 1 || (artifactType !== undefined && !isMediaType(artifactType))) {
      throw new OciError('DIGEST_INVALID', 'invalid artifactType');
    }
    return { action: 'get-referrers', ns: referrersNs, digest: referrers.piece, artifactType, last: query.single('last') };
  }

  const tagsNs = parseNamespace(stripSuffix(rest, '/tags/list') ?? '');
  if (tagsNs && method === 'GET') return { action: 'list-tags', ns: tagsNs, n: query.pageSize(), last: query.single('last') };

  throw new UnmatchedError(`${method} /v2/${rest}`);
}

/** `/v2/_angos/<path>` (docs/api.md, "Extension API"); undefined when `path` is no extension endpoint. */
function matchRegistryExtension(method: string, path: string, query: Query): (Route & { action: Action }) | undefined {
  const endpoint = `${method} ${path}`;
  switch (endpoint) {
    case 'GET repositories/list':
      return { action: 'list-repositories' };
    case 'GET ui/config':
      return { action: 'ui-config' };
    case 'GET namespaces/list': {
      const repository = query.single('repository');
      if (repository === undefined) throw new UnmatchedError('missing repository');
      return { action: 'list-namespaces', repository };
    }
    case 'GET jobs/list':
    case 'GET jobs/failed':
      return { action: path === 'jobs/list' ? 'list-jobs' : 'list-failed-jobs', queue: query.queue(), n: query.pageSize(), after: query.storageKey('after', false) };
    case 'POST jobs/failed':
      return { action: 'retry-job', queue: query.queue(), key: query.storageKey('key', true)! };
    case 'DELETE jobs/failed':
    case 'DELETE jobs/pending':
      return { action: 'delete-job', queue: query.queue(), state: path === 'jobs/failed' ? 'failed' : 'pending', key: query.storageKey('key', true)! };
  }
  return undefined;
}

/** `/v2/<name>/_angos/<path>`, split at the first `/_angos/`; undefined when it is none of them. */
function matchNamespaceExtension(method: string, rest: string, query: Query): (Route & { action: Action }) | undefined {
  const at = rest.indexOf('/_angos/');
  const ns = at > 0 ? parseNamespace(rest.slice(0, at)) : undefined;
  if (!ns || method !== 'GET') return undefined;
  switch (rest.slice(at + '/_angos/'.length)) {
    case 'revisions/list':
      return { action: 'list-revisions', ns, pulls: undefined };
    case 'uploads/list':
      return { action: 'list-uploads', ns };
    case 'pulls/list':
      return { action: 'list-revisions', ns, pulls: query.pullTarget() };
  }
  return undefined;
}

function startUpload(ns: Namespace, query: Query): Route & { action: Action } {
  const mount = query.digest('mount', false);
  const fromText = query.single('from');
  const from = fromText === undefined ? undefined : parseNamespace(fromText);
  if (fromText !== undefined && !from) throw new UnmatchedError('invalid from');
  const digest = query.digest('digest', false);
  const algorithmText = query.single('digest-algorithm');
  const algorithm = algorithmText === undefined ? undefined : parseAlgorithm(algorithmText);
  if (algorithmText !== undefined && !algorithm) throw new UnmatchedError('invalid digest-algorithm');
  if (mount) return { action: 'mount-blob', ns, mount, from };
  return { action: 'start-upload', ns, digest, algorithm };
}

function stripSuffix(value: string, suffix: string): string | undefined {
  return value.endsWith(suffix) ? value.slice(0, -suffix.length) : undefined;
}

function splitLast(value: string, marker: string): { name: string; piece: string } | undefined {
  const at = value.lastIndexOf(marker);
  return at <= 0 ? undefined : { name: value.slice(0, at), piece: value.slice(at + marker.length) };
}

/** Form-decoded query; unknown parameters are ignored, a repeated single-valued one is malformed. */
class Query {
  private readonly params: URLSearchParams;

  constructor(text: string) {
    this.params = new URLSearchParams(text);
  }

  all(name: string): string[] {
    return this.params.getAll(name);
  }

  single(name: string): string | undefined {
    const values = this.params.getAll(name);
    if (values.length > 1) throw new UnmatchedError(`repeated query parameter '${name}'`);
    return values[0];
  }

  digest(name: string, required: boolean): Digest | undefined {
    const value = this.single(name);
    if (value === undefined && !required) return undefined;
    if (value === undefined || !isDigest(value)) throw new UnmatchedError(`invalid or missing '${name}'`);
    return value;
  }

  pageSize(): number {
    const value = this.single('n');
    if (value === undefined) return DEFAULT_PAGE;
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!(n <= 65535)) throw new UnmatchedError(`invalid n '${value}'`);
    return n;
  }

  /** Job actions: `cache` unless `?queue=` names another queue. */
  queue(): JobQueue {
    const value = this.single('queue') ?? 'cache';
    if (!isJobQueueName(value)) throw new UnmatchedError(`unknown queue '${value}'`);
    return value;
  }

  /** A job's storage key (`<hex16>-<uuid>`, one path segment): `?key=` of retry and delete, `?after=` of the listings. */
  storageKey(name: string, required: boolean): string | undefined {
    const value = this.single(name);
    if (value === undefined && !required) return undefined;
    if (value === undefined || jobKeys.parseStorageKey(value) === undefined) throw new UnmatchedError(`missing or invalid job '${name}'`);
    return value;
  }

  pullTarget(): PullTarget {
    const tag = this.single('tag');
    const digest = this.single('digest');
    if (tag !== undefined && digest === undefined && isTag(tag)) return { kind: 'tag', tag };
    if (digest !== undefined && tag === undefined && isDigest(digest)) return { kind: 'digest', digest };
    throw new UnmatchedError('pulls/list needs exactly one valid tag or digest');
  }

  tags(): Tag[] {
    const values = this.params.getAll('tag');
    if (values.length > MAX_TAGS_PER_PUSH) throw new OciError('UNSUPPORTED', `a manifest push may carry at most ${MAX_TAGS_PER_PUSH} tag parameters`);
    if (!values.every(isTag)) throw new UnmatchedError('invalid tag parameter');
    return values;
  }
}
