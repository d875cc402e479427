import type { Digest } from '../../oci/digest.ts';
import type { Namespace } from '../../oci/name.ts';
import { parseRangeHeader, resolveRange } from '../../oci/range.ts';
import { sendBody } from '../../storage/body.ts';
import type { HttpContext } from '../context.ts';
import { redirectSuppressed } from '../headers.ts';
import { sendEmpty } from '../respond.ts';

/** HEAD/GET a blob: whole, one range, or a presigned redirect (docs/api.md, "Blobs"). */
export async function getBlob(ctx: HttpContext, ns: Namespace, digest: Digest): Promise<void> {
  const { req, res, registry, config } = ctx;
  const blob = await registry.blobs.stat(ns, digest);
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

export async function deleteBlob({ res, registry, actor }: HttpContext, ns: Namespace, digest: Digest): Promise<void> {
  await registry.blobs.delete(ns, digest, actor);
  sendEmpty(res, 202);
}
