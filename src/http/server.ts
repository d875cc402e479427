import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type ServerOptions as TlsServerOptions } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { authenticate, type AuthMethod } from '../auth/authenticate.ts';
import { refuseUnverifiedCertificate } from '../auth/mtls.ts';
import { authorizeByWebhook } from '../auth/webhook/authorize.ts';
import { authChallenge } from '../auth/token-service/challenge.ts';
import type { Cache } from '../cache/cache.ts';
import type { Config } from '../config/types.ts';
import { OciError } from '../oci/errors.ts';
import type { Namespace } from '../oci/name.ts';
import { logger } from '../observability/logging.ts';
import { decide, type PolicyInput } from '../policy/access-policy.ts';
import type { Action } from '../policy/actions.ts';
import { PULL_ACTIONS } from '../policy/actions.ts';
import { isAuthenticated } from '../policy/identity.ts';
import { requestVariables } from '../policy/request-variables.ts';
import type { PullThrough } from '../mirror/pull-through.ts';
import type { Registry } from '../registry/registry.ts';
import type { JobAdmin } from '../jobs/job-store.ts';
import type { JobQueue } from '../jobs/queue.ts';
import { actorOf } from './actor.ts';
import type { HttpContext } from './context.ts';
import { sendError } from './errors.ts';
import { apiVersion, healthz, metrics, readyz } from './handlers/base.ts';
import { deleteBlob, getBlob } from './handlers/blobs.ts';
import { listNamespaces, listPulls, listRepositories, listRevisions, listUploads, uiConfig } from './handlers/extensions.ts';
import { deleteJob, listFailedJobs, listPendingJobs, retryJob } from './handlers/jobs.ts';
import { listCatalog, listReferrers, listTags } from './handlers/listings.ts';
import { getToken } from './handlers/token.ts';
import { deleteManifest, getManifest, putManifest } from './handlers/manifests.ts';
import { cancelUpload, completeUpload, getUpload, mountBlob, patchUpload, startUpload } from './handlers/uploads.ts';
import { rewriteNamespace } from './namespace-rewrite.ts';
import { RequestPools } from './request-pools.ts';
import { ByteBudget } from '../runtime/byte-budget.ts';
import { trackRequest } from './request-tracking.ts';
import { matchRoute, type Route } from './router.ts';

const log = logger('angos::http::server');

export interface ServerDeps {
  /** The live configuration; read per request so a reload applies to the next one. */
  config: () => Config;
  /**
   * The registry and the registry cache (`[cache]`, shared state of authentication and authorization) in force:
   * read once per request, so a reload that rebuilds storage or the cache applies from the next request on.
   */
  components: () => ServerComponents;
  /** Certificates and keys when `[server.tls]` is configured: the server then speaks only HTTPS. */
  tls?: TlsServerOptions;
  /** Bounds the manifest bytes held at once (`angos server` passes its memory policy's); unbounded when absent. */
  manifestBytes?: ByteBudget;
}

export interface ServerComponents {
  registry: Registry;
  cache: Cache;
  /** The job queue on the metadata store: enqueue (cache fills, replication) and the admin API's view of it. */
  jobs: JobQueue & JobAdmin;
  /** The pull-through cache, serving namespaces of repositories with upstreams. */
  pullThrough?: PullThrough;
}

/** The registry's HTTP server: route, authenticate, authorize, then hand over to one handler per resource. */
export function createRegistryServer(deps: ServerDeps): Server {
  const initial = deps.config();
  const pools = new RequestPools(initial.global.maxConcurrentRequests);
  const manifestBytes = deps.manifestBytes ?? new ByteBudget(Number.MAX_SAFE_INTEGER);
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(deps, pools, manifestBytes, req, res).catch((err: unknown) => {
      // Last line of defence: a fault while answering must cost this request, never the process.
      log.error('unhandled error while answering a request', { error: String(err) });
      res.destroy();
    });
  };
  // Large uploads may take longer than Node's default request timeout; `query_timeout` bounds connections.
  const server: Server = deps.tls
    ? createTlsServer({ ...deps.tls, requestTimeout: 0, handshakeTimeout: initial.server.handshakeTimeoutSecs * 1000 }, listener)
    : createServer({ requestTimeout: 0 }, listener);
  if (deps.tls) {
    server.on('secureConnection', (socket: TLSSocket) => {
      if (!refuseUnverifiedCertificate(socket)) limitConnectionLifetime(socket, deps.config());
    });
  } else {
    server.on('connection', (socket: Socket) => limitConnectionLifetime(socket, deps.config()));
  }
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerMalformed(err, socket));
  return server;
}

async function handle(deps: ServerDeps, pools: RequestPools, manifestBytes: ByteBudget, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const config = deps.config();
  const { registry, cache, pullThrough, jobs } = deps.components();
  if ((req.socket as ExpiringSocket).expired) res.shouldKeepAlive = false;
  const tracked = trackRequest(req, res);
  let route: Route;
  try {
    route = matchRoute(req.method ?? '', req.url ?? '/');
  } catch (err) {
    sendError(req, res, err, tracked);
    return;
  }
  tracked.route = route.action;
  const challenge = authChallenge(config, req, route.action);
  const extraHeaders: Record<string, string> = {};
  try {
    if ('ns' in route && PULL_ACTIONS.has(route.action)) {
      const rewrite = rewriteNamespace(config, route.ns, req.url ?? '');
      if (rewrite) {
        route = { ...route, ns: rewrite.ns } as Route;
        extraHeaders['oci-namespace'] = rewrite.header;
      }
    }
    // After the `ns` rewrite, so policies see the namespace actually served (docs/api.md, "The ns parameter").
    const authentication = await authenticate(config, req, cache);
    const { identity, method } = authentication;
    await authorize(config, cache, req, { identity, request: requestVariables(route) }, method);
    // Only authorized requests wait for a handler slot: a flood of wrong credentials (each an Argon2 verification)
    // or of refused requests never holds slots that callers with valid credentials need. A client that gave up
    // while queued is gone: there is no one to answer.
    if (!(await pools.admit(route.action, res))) return;
    const mountDigest = route.action === 'mount-blob' ? route.mount : undefined;
    const ctx: HttpContext = {
      req,
      res,
      registry,
      pullThrough,
      jobs,
      config,
      extraHeaders,
      authentication,
      actor: (tracked.actor = actorOf(identity)),
      manifestBytes,
      // A mount source is judged as a read of the mounted blob there (docs/api.md, "Mounts").
      mayPerform: async (action: Action, ns: Namespace) => {
        const input = { identity, request: requestVariables({ action, ns, digest: mountDigest }) };
        return decide(config, input).allowed && (await authorizeByWebhook(config, cache, { req, ...input })).allowed;
      },
    };
    await dispatch(ctx, route);
  } catch (err) {
    sendError(req, res, err, tracked, challenge);
  }
}

/**
 * A denial is a 401 with the challenge for an anonymous caller, 403 for an authenticated one (docs/api.md, "Request
 * processing").
 */
async function authorize(config: Config, cache: Cache, req: IncomingMessage, input: PolicyInput, method: AuthMethod): Promise<void> {
  let decision = decide(config, input);
  // The webhook is asked last, once both policy levels and the pull-through guard allowed.
  if (decision.allowed) decision = await authorizeByWebhook(config, cache, { req, ...input });
  if (decision.allowed) return;
  const { identity } = input;
  // One audit line per denial (docs/operations.md, "Logs"): who was refused and by which scope, never credentials.
  log.info('access denied', {
    by: decision.deniedBy,
    action: input.request.action,
    method,
    id: identity.id,
    username: identity.username,
    client_ip: identity.clientIp,
    certificate_cn: identity.certificate.commonNames,
    certificate_o: identity.certificate.organizations,
    oidc_provider: identity.oidc?.providerName ?? null,
  });
  throw new OciError(isAuthenticated(identity) ? 'DENIED' : 'UNAUTHORIZED', decision.reason);
}

function dispatch(ctx: HttpContext, route: Route): Promise<void> | void {
  switch (route.action) {
    case 'get-api-version':
      return apiVersion(ctx);
    case 'healthz':
      return healthz(ctx);
    case 'readyz':
      return readyz(ctx);
    case 'metrics':
      return metrics(ctx);
    case 'get-token':
      return getToken(ctx);
    case 'ui-asset':
      throw new OciError('NAME_UNKNOWN', 'not available');
    case 'list-catalog':
      return listCatalog(ctx, route.n, route.last);
    case 'get-blob':
      return getBlob(ctx, route.ns, route.digest);
    case 'delete-blob':
      return deleteBlob(ctx, route.ns, route.digest);
    case 'start-upload':
      return startUpload(ctx, route.ns, route.digest, route.algorithm);
    case 'mount-blob':
      return mountBlob(ctx, route.ns, route.mount, route.from);
    case 'get-upload':
      return getUpload(ctx, route.ns, route.session);
    case 'update-upload':
      return patchUpload(ctx, route.ns, route.session);
    case 'complete-upload':
      return completeUpload(ctx, route.ns, route.session, route.digest);
    case 'cancel-upload':
      return cancelUpload(ctx, route.ns, route.session);
    case 'get-manifest':
      return getManifest(ctx, route.ns, route.reference);
    case 'put-manifest':
      return putManifest(ctx, route.ns, route.reference, route.tags);
    case 'delete-manifest':
      return deleteManifest(ctx, route.ns, route.reference);
    case 'list-tags':
      return listTags(ctx, route.ns, route.n, route.last);
    case 'get-referrers':
      return listReferrers(ctx, route.ns, route.digest, route.artifactType, route.last);
    case 'list-repositories':
      return listRepositories(ctx);
    case 'list-namespaces':
      return listNamespaces(ctx, route.repository);
    case 'list-revisions':
      return route.pulls ? listPulls(ctx, route.ns, route.pulls) : listRevisions(ctx, route.ns);
    case 'list-uploads':
      return listUploads(ctx, route.ns);
    case 'list-jobs':
      return listPendingJobs(ctx, route.queue, route.n, route.after);
    case 'list-failed-jobs':
      return listFailedJobs(ctx, route.queue, route.n, route.after);
    case 'retry-job':
      return retryJob(ctx, route.queue, route.key);
    case 'delete-job':
      return deleteJob(ctx, route.queue, route.state, route.key);
    case 'ui-config':
      return uiConfig(ctx);
  }
}

type ExpiringSocket = Socket & { expired?: boolean };

/**
 * `query_timeout` is a wall-clock budget per connection (docs/operations.md, "Connection lifetime"): once spent, no
 * further request is taken on it; the request in flight gets `query_timeout_grace_period` more, then the socket is
 * destroyed.
 */
function limitConnectionLifetime(socket: ExpiringSocket, config: Config): void {
  const { queryTimeoutSecs, queryTimeoutGracePeriodSecs } = config.server;
  const budget = setTimeout(() => {
    socket.expired = true;
    const grace = setTimeout(() => socket.destroy(), queryTimeoutGracePeriodSecs * 1000);
    grace.unref();
    socket.once('close', () => clearTimeout(grace));
  }, queryTimeoutSecs * 1000);
  budget.unref();
  socket.once('close', () => clearTimeout(budget));
}

/** Requests the HTTP parser rejects (bad Content-Length, oversized headers) still get an OCI error body. */
function answerMalformed(err: NodeJS.ErrnoException, socket: Socket): void {
  // Only the HTTP parser's errors can be answered in HTTP; a TLS failure (a handshake that timed out or went
  // wrong) happens before there is any HTTP to speak, so the connection is just closed.
  if (!socket.writable || !err.code?.startsWith('HPE_')) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
  const body = JSON.stringify({ errors: [{ code: 'UNSUPPORTED', message: tooLarge ? 'request headers too large' : 'malformed HTTP request' }] });
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
