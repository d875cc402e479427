import type { RepositoryConfig } from '../../config/types.ts';
import type { PullThrough } from '../../mirror/pull-through.ts';
import type { Digest } from '../../oci/digest.ts';
import type { Namespace } from '../../oci/name.ts';
import { parseRangeHeader, resolveRange } from '../../oci/range.ts';
import { isRegistryError } from '../../registry/errors.ts';
import { forwardedAccept } from '../../remote/accept.ts';
import { sendBody } from '../../storage/body.ts';
import type { HttpContext } from '../context.ts';
import { redirectSuppressed } from '../headers.ts';
import { sendEmpty } from '../respond.ts';

/** HEAD/GET a blob: whole, one range, or a presigned redirect (docs/api.md, "Blobs"). */
export async function getBlob(ctx: HttpContext, ns: Namespace, digest: Digest): Promise<void> {
  const { req, res, registry, config } = ctx;
  const mirrored = ctx.pullThrough?.repositoryOf(ns);
  const blob = mirrored ? await registry.blobs.stat(ns, digest).catch(missing) : await registry.blobs.stat(ns, digest);
  if (!blob) return relayBlob(ctx, ctx.pullThrough!, mirrored!, ns, digest);
  const { size } = blob;
  const headers = { ...ctx.extraHeaders, 'docker-content-digest': digest, 'accept-ranges': 'bytes' };
  if (req.method === 'HEAD') {
    res.writeHead(200, { ...headers, 'content-length': size });
    res.end();
    return;
  }
  const requested = parseRangeHeader(req.headers.range);
  const span = resolveRange(requested, size);
  if (!requested && registry.blobs.canPresign && config.global.enableBlobRedirect && !redirectSuppressed(req)) {
    const location = await registry.blobs.pullRedirect(blob, ctx.actor);
    if (location) {
      sendEmpty(res, 307, { ...headers, location });
      return;
    }
  }
  const body = await registry.blobs.pull(blob, ctx.actor, span);
  if (span) {
    res.writeHead(206, {
      ...headers,
      'content-length': span.end - span.start + 1,
      'content-range': `bytes ${span.start}-${span.end}/${size}`,
    });
  } else {
    res.writeHead(200, { ...headers, 'content-length': size });
  }
  await sendBody(body, res);
}

/**
 * A blob of a pull-through namespace that is not stored yet (docs/pull-through.md, "Blob misses"): HEAD answers with
 * the upstream's size; GET streams the upstream's body (a valid range forwarded, its 206 passed through).
 */
async function relayBlob(ctx: HttpContext, pullThrough: PullThrough, repo: RepositoryConfig, ns: Namespace, digest: Digest): Promise<void> {
  const { req, res } = ctx;
  const accept = forwardedAccept(req.headers.accept);
  const headers = { ...ctx.extraHeaders, 'docker-content-digest': digest, 'accept-ranges': 'bytes' };
  if (req.method === 'HEAD') {
    const { size } = await pullThrough.headBlob(repo, ns, digest, accept);
    res.writeHead(200, { ...headers, 'content-length': size });
    res.end();
    return;
  }
  const range = parseRangeHeader(req.headers.range) ? req.headers.range : undefined;
  const relayed = await pullThrough.getBlob(repo, ns, digest, range, accept);
  res.writeHead(relayed.status, {
    ...headers,
    'content-length': relayed.size,
    ...(relayed.contentRange !== undefined ? { 'content-range': relayed.contentRange } : {}),
  });
  // A broken upstream stream after the headers can only end in a truncated body: the client sees the connection cut.
  await sendBody(relayed.body, res);
}

function missing(err: unknown): undefined {
  if (isRegistryError(err, 'blob-unknown')) return undefined;
  throw err;
}

export async function deleteBlob({ res, registry, actor }: HttpContext, ns: Namespace, digest: Digest): Promise<void> {
  await registry.blobs.delete(ns, digest, actor);
  sendEmpty(res, 202);
}
