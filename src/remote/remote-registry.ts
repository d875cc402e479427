// The client of one remote registry (docs/remote.md; spec §1): a pull-through upstream or a replication
// downstream. One module for both: the connection (timeouts, TLS, redirects), the 401 dance and its token cache,
// and the protocol's read operations with the headers each requires. Every failure is a RemoteError.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { SecureContext } from 'node:tls';
import type { Cache } from '../cache/cache.ts';
import type { RemoteClientConfig } from '../config/types.ts';
import { digestAlgorithm, isDigest, parseDigest } from '../oci/digest.ts';
import { mediaTypeOfContentType } from '../oci/media-type.ts';
import { isNamespace } from '../oci/name.ts';
import { parseReference } from '../oci/reference.ts';
import { isTag } from '../oci/tag.ts';
import { Authenticator } from './auth.ts';
import { readLimited } from './body.ts';
import { nextLink } from './link.ts';
import { mapNamespace, type RemoteRole } from './namespace.ts';
import { RemoteError } from './remote-error.ts';
import { readRemoteTls, readRemoteTlsSync } from './remote-tls.ts';
import { credentialTag, TokenCache } from './token-cache.ts';
import { discard, drain, headerValue, shown, Transport, type HeaderValues, type Incoming, type ResponseHeaders } from './transport.ts';

/** A listing page (tags, referrers) is read into memory: a bound well above any real page. */
const MAX_LIST_PAGE = 16 * 1024 * 1024;
const MAX_PAGES = 10_000;
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

export interface RemoteDeps {
  /** The `[cache]` backend: where tokens are kept (spec §1.2). */
  readonly cache: Cache;
  /** `global.max_manifest_size`, read per request so a reload applies. */
  readonly maxManifestSize: () => number;
  /** How a bare-host `url` maps namespaces (spec §2.2, §5.2); `upstream` unless told. */
  readonly role?: RemoteRole;
  /** The configuration entry, for error messages (`repository."hub".upstream[0]`); `url` unless told. */
  readonly section?: string;
  /** TLS material already read (`openRemote`); without it the constructor reads the files itself. */
  readonly tls?: { readonly secureContext: SecureContext | undefined };
}

export interface RemoteRequest {
  readonly method: string;
  /** `/v2/…` on the remote's origin, or an absolute http(s) URL the remote handed out (an upload `Location`). */
  readonly path: string;
  /** Lower-case names; an array goes out as one header line per item. `authorization` is ignored here. */
  readonly headers?: HeaderValues;
  /** A Buffer is resent after a 401 or a redirect; a stream is not: a 401 to it, or a redirect after it, fails. */
  readonly body?: Buffer | Readable;
  readonly signal?: AbortSignal;
  /** Sent instead of the cached value (a blob upload's PATCH reuses the one that opened the session). */
  readonly authorization?: string;
}

export interface RemoteResponse {
  readonly status: number;
  readonly headers: ResponseHeaders;
  /** Consume it or destroy it. */
  readonly body: Readable;
  /** The URL that answered, after redirects. */
  readonly url: string;
  /** What the last attempt sent as `Authorization` to the remote's origin; undefined = anonymous. */
  readonly authorization: string | undefined;
}

export interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

type Exchange = Incoming & { readonly authorization: string | undefined };

/** Opens a client, reading its TLS files first: an unreadable one rejects with an Error naming the key and file. */
export async function openRemote(config: RemoteClientConfig, deps: RemoteDeps): Promise<RemoteRegistry> {
  const secureContext = await readRemoteTls(config, deps.section ?? config.url);
  return new RemoteRegistry(config, { ...deps, tls: { secureContext } });
}

export class RemoteRegistry {
  readonly config: RemoteClientConfig;
  readonly #deps: RemoteDeps;
  readonly #origin: string;
  readonly #transport: Transport;
  readonly #auth: Authenticator;

  constructor(config: RemoteClientConfig, deps: RemoteDeps) {
    this.config = config;
    this.#deps = deps;
    this.#origin = new URL(config.origin).origin;
    const secureContext = deps.tls === undefined ? readRemoteTlsSync(config, deps.section ?? config.url) : deps.tls.secureContext;
    this.#transport = new Transport({
      connectTimeoutMs: config.connectTimeoutSecs * 1000,
      readTimeoutMs: config.readTimeoutSecs * 1000,
      maxRedirect: config.maxRedirect,
      secureContext,
    });
    const credentials = config.username !== undefined && config.password !== undefined ? { username: config.username, password: config.password } : undefined;
    const tokens = new TokenCache(deps.cache, new URL(this.#origin).host, credentialTag(credentials?.username));
    this.#auth = new Authenticator(this.#transport, tokens, credentials);
  }

  /** The remote namespace for local namespace `ns` of repository key `repositoryKey` (spec §2.2 / §5.2). */
  remoteNamespace(repositoryKey: string, ns: string): string {
    return mapNamespace(this.#deps.role ?? 'upstream', this.config.namespacePath, repositoryKey, ns);
  }

  /** HEAD /v2/<remoteNs>/manifests/<reference>; 2xx + Content-Length required. */
  async headManifest(remoteNs: string, reference: string, accept: readonly string[]): Promise<{ digest: string | undefined; size: number; mediaType: string | undefined }> {
    const response = await this.#read('HEAD', `/v2/${checkNamespace(remoteNs)}/manifests/${checkReference(reference)}`, acceptHeaders(accept));
    await drain(response);
    const size = requireLength(response);
    const digest = headerValue(response.headers, 'docker-content-digest');
    return { digest: digest !== undefined && isDigest(digest) ? digest : undefined, size, mediaType: mediaTypeOf(response.headers) };
  }

  /**
   * GET manifest; a Content-Length over `maxManifestSize` fails before reading, otherwise at most limit+1 bytes
   * are read. Digest = Docker-Content-Digest, or computed over the body (the requested digest's algorithm; sha256
   * for tags). Does NOT check that the body matches a requested digest: the caller does.
   */
  async getManifest(remoteNs: string, reference: string, accept: readonly string[]): Promise<{ digest: string; mediaType: string; body: Buffer }> {
    const parsed = checkReference(reference);
    const response = await this.#read('GET', `/v2/${checkNamespace(remoteNs)}/manifests/${parsed}`, acceptHeaders(accept));
    const limit = this.#deps.maxManifestSize();
    const what = `manifest ${shown(response.url)}`;
    const declared = contentLength(response.headers);
    if (declared !== undefined && declared > limit) {
      discard(response.body);
      throw new RemoteError(`${what} is ${declared} bytes, over max_manifest_size (${limit})`);
    }
    const body = await readLimited(response.body, limit, what);
    const header = headerValue(response.headers, 'docker-content-digest');
    const requested = parseReference(parsed);
    const algorithm = requested?.kind === 'digest' ? digestAlgorithm(requested.digest) : 'sha256';
    const digest = header !== undefined && isDigest(header) ? header : `${algorithm}:${createHash(algorithm).update(body).digest('hex')}`;
    const mediaType = mediaTypeOf(response.headers) ?? mediaTypeInBody(body);
    if (mediaType === undefined) throw new RemoteError(`${what} has no media type (neither Content-Type nor a mediaType field)`);
    return { digest, mediaType, body };
  }

  /** HEAD blob; 2xx + Docker-Content-Digest + Content-Length required. */
  async headBlob(remoteNs: string, digest: string, accept: readonly string[] = []): Promise<{ digest: string; size: number }> {
    const response = await this.#read('HEAD', blobPath(remoteNs, digest), acceptHeaders(accept));
    await drain(response);
    const size = requireLength(response);
    const answered = headerValue(response.headers, 'docker-content-digest');
    if (answered === undefined || !isDigest(answered)) {
      throw new RemoteError(`HEAD ${shown(response.url)} answered ${response.status} without a valid Docker-Content-Digest`, { status: response.status });
    }
    return { digest: answered, size };
  }

  /**
   * GET blob, streamed (never buffered): resolves once headers arrived with 200 or 206 and a Content-Length.
   * `range` is a client's Range header value, forwarded verbatim. The body must be consumed or destroyed.
   */
  async getBlob(
    remoteNs: string,
    digest: string,
    options: { range?: string; accept?: readonly string[]; signal?: AbortSignal } = {},
  ): Promise<{ status: number; size: number; contentRange: string | undefined; body: Readable }> {
    const headers: Record<string, string | readonly string[]> = { ...acceptHeaders(options.accept ?? []) };
    if (options.range !== undefined) headers.range = options.range;
    const response = await this.#read('GET', blobPath(remoteNs, digest), headers, options.signal);
    if (response.status !== 200 && response.status !== 206) {
      await drain(response);
      throw new RemoteError(`GET ${shown(response.url)} answered ${response.status}, expected 200 or 206`, { status: response.status });
    }
    const size = contentLength(response.headers);
    if (size === undefined) {
      discard(response.body);
      throw new RemoteError(`GET ${shown(response.url)} answered ${response.status} without a Content-Length`, { status: response.status });
    }
    return { status: response.status, size, contentRange: headerValue(response.headers, 'content-range'), body: response.body };
  }

  /** HEAD blob without Accept: 2xx = true, 404 = false, anything else throws. */
  async blobExists(remoteNs: string, digest: string): Promise<boolean> {
    const response = await this.#send('HEAD', this.#url(blobPath(remoteNs, digest)), { headers: {} });
    await drain(response);
    if (response.status === 404) return false;
    if (response.status >= 200 && response.status <= 299) return true;
    throw statusError('HEAD', response);
  }

  /** Every page (Link rel="next"); 404 → []; invalid tags skipped; stops on a repeated page URL; fails past 10 000 pages. */
  async listTags(remoteNs: string): Promise<string[]> {
    const tags: string[] = [];
    await this.#pages(`/v2/${checkNamespace(remoteNs)}/tags/list`, 'application/json', (json) => {
      const list = (json as { tags?: unknown }).tags;
      if (Array.isArray(list)) for (const tag of list) if (typeof tag === 'string' && isTag(tag)) tags.push(tag);
    });
    return tags;
  }

  /** Every page of GET /v2/<ns>/referrers/<digest> (the index's `manifests`); 404 → []; malformed entries skipped. */
  async listReferrers(remoteNs: string, digest: string): Promise<ReferrerDescriptor[]> {
    const referrers: ReferrerDescriptor[] = [];
    await this.#pages(`/v2/${checkNamespace(remoteNs)}/referrers/${parseDigest(digest)}`, OCI_INDEX, (json) => {
      const list = (json as { manifests?: unknown }).manifests;
      if (Array.isArray(list)) for (const entry of list) {
        const descriptor = referrerOf(entry);
        if (descriptor !== undefined) referrers.push(descriptor);
      }
    });
    return referrers;
  }

  /**
   * Any request (replication's pushes and deletes), with the same redirects, auth and timeouts. Answers every
   * status but 403 (a RemoteError, `denied`); the body must be consumed or destroyed.
   */
  async request(options: RemoteRequest): Promise<RemoteResponse> {
    const target = this.#target(options.path);
    const headers = Object.fromEntries(Object.entries(options.headers ?? {}).filter(([name]) => name.toLowerCase() !== 'authorization'));
    const response = await this.#send(options.method, target, {
      headers,
      body: options.body,
      signal: options.signal,
      authorization: options.authorization,
    });
    return { status: response.status, headers: response.headers, body: response.body, url: response.url.href, authorization: response.authorization };
  }

  /** Waits for requests in flight (their bodies included), then closes the connections. */
  close(): Promise<void> {
    return this.#transport.close();
  }

  #url(path: string): URL {
    return new URL(`${this.#origin}${path}`);
  }

  #target(path: string): URL {
    if (path.startsWith('/v2/')) return this.#url(path);
    if (/^https?:\/\//i.test(path) && URL.canParse(path)) return new URL(path);
    throw new Error(`remote request path must start with /v2/ or be an absolute http(s) URL, got '${path.slice(0, 200)}'`);
  }

  /** A read that must answer 2xx: anything else is drained and thrown. */
  async #read(method: string, path: string, headers: HeaderValues, signal?: AbortSignal): Promise<Exchange> {
    const response = await this.#send(method, this.#url(path), { headers, signal });
    if (response.status < 200 || response.status > 299) {
      await drain(response);
      throw statusError(method, response);
    }
    return response;
  }

  /**
   * One request through the 401 dance (spec §1.2): the cached `Authorization` for the URL (or none), on a 401 the
   * answer to its challenge and one resend; 403 is a `denied` failure. Only the remote's own origin gets
   * credentials: a 401 from any other URL is returned as it is.
   */
  async #send(
    method: string,
    url: URL,
    options: { headers: HeaderValues; body?: Buffer | Readable | undefined; signal?: AbortSignal | undefined; authorization?: string | undefined },
  ): Promise<Exchange> {
    const own = url.origin === this.#origin;
    const streamed = options.body !== undefined && !Buffer.isBuffer(options.body);
    let authorization = own ? (options.authorization ?? (await this.#auth.initial(url))) : undefined;
    const out = { method, url, headers: options.headers, body: options.body, signal: options.signal };
    let response = await this.#transport.send({ ...out, authorization });
    if (response.status === 401 && own) {
      await drain(response);
      if (streamed) throw new RemoteError(`${method} ${shown(url)} answered 401 to a streamed body, which cannot be resent`, { status: 401 });
      authorization = await this.#auth.answer(url, authorization, response.headers['www-authenticate']);
      response = await this.#transport.send({ ...out, authorization });
    }
    if (response.status === 403) {
      await drain(response);
      throw new RemoteError(`${method} ${shown(url)} answered 403 (denied)`, { status: 403, denied: true });
    }
    return { ...response, authorization };
  }

  /** Reads every page from `path` on, handing each parsed JSON body to `onPage`; a first-page 404 is an empty list. */
  async #pages(path: string, accept: string, onPage: (json: unknown) => void): Promise<void> {
    const seen = new Set<string>();
    let url: URL | undefined = this.#url(path);
    for (let page = 0; url !== undefined; page += 1) {
      if (page === MAX_PAGES) throw new RemoteError(`GET ${shown(this.#url(path))}: more than ${MAX_PAGES} pages`);
      seen.add(url.href);
      const response = await this.#send('GET', url, { headers: { accept } });
      if (response.status === 404 && page === 0) {
        await drain(response);
        return;
      }
      if (response.status < 200 || response.status > 299) {
        await drain(response);
        throw statusError('GET', response);
      }
      const text = (await readLimited(response.body, MAX_LIST_PAGE, `page ${shown(url)}`)).toString('utf8');
      try {
        onPage(JSON.parse(text) as unknown);
      } catch (error) {
        throw new RemoteError(`GET ${shown(url)} answered ${response.status} without a JSON body: ${(error as Error).message}`, { status: response.status });
      }
      const next = nextLink(response.headers.link, response.url);
      url = next === undefined || seen.has(next.href) ? undefined : next;
    }
  }
}

function statusError(method: string, response: Incoming): RemoteError {
  return new RemoteError(`${method} ${shown(response.url)} answered ${response.status}`, { status: response.status, denied: response.status === 403 });
}

function acceptHeaders(accept: readonly string[]): HeaderValues {
  return accept.length === 0 ? {} : { accept };
}

function contentLength(headers: ResponseHeaders): number | undefined {
  const value = headerValue(headers, 'content-length');
  if (value === undefined || !/^\d{1,15}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

function requireLength(response: Incoming): number {
  const size = contentLength(response.headers);
  if (size === undefined) throw new RemoteError(`HEAD ${shown(response.url)} answered ${response.status} without a Content-Length`, { status: response.status });
  return size;
}

function mediaTypeOf(headers: ResponseHeaders): string | undefined {
  const value = headerValue(headers, 'content-type');
  return value === undefined ? undefined : mediaTypeOfContentType(value);
}

function mediaTypeInBody(body: Buffer): string | undefined {
  try {
    const mediaType = (JSON.parse(body.toString('utf8')) as { mediaType?: unknown }).mediaType;
    return typeof mediaType === 'string' ? mediaTypeOfContentType(mediaType) : undefined;
  } catch {
    return undefined;
  }
}

function checkNamespace(ns: string): string {
  if (!isNamespace(ns)) throw new Error(`invalid remote namespace '${ns.slice(0, 300)}'`);
  return ns;
}

function checkReference(reference: string): string {
  if (parseReference(reference) === undefined) throw new Error(`invalid manifest reference '${reference.slice(0, 200)}'`);
  return reference;
}

function blobPath(remoteNs: string, digest: string): string {
  return `/v2/${checkNamespace(remoteNs)}/blobs/${parseDigest(digest)}`;
}

function referrerOf(entry: unknown): ReferrerDescriptor | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const { mediaType, digest, size, artifactType, annotations } = entry as Record<string, unknown>;
  if (typeof mediaType !== 'string' || typeof digest !== 'string' || !isDigest(digest)) return undefined;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return undefined;
  const descriptor: ReferrerDescriptor = { mediaType, digest, size };
  if (typeof artifactType === 'string') descriptor.artifactType = artifactType;
  if (typeof annotations === 'object' && annotations !== null && Object.values(annotations).every((value) => typeof value === 'string')) {
    descriptor.annotations = { ...(annotations as Record<string, string>) };
  }
  return descriptor;
}
