import type { IncomingMessage } from 'node:http';
import { isImmutableTag, owningRepository } from '../../config/repository-lookup.ts';
import type { Config } from '../../config/types.ts';
import { OciError } from '../../oci/errors.ts';
import { mediaTypeOfContentType } from '../../oci/media-type.ts';
import type { Namespace } from '../../oci/name.ts';
import { referenceString, type Reference } from '../../oci/reference.ts';
import type { Tag } from '../../oci/tag.ts';
import { manifestTooLarge } from '../../registry/manifests.ts';
import { forwardedAccept } from '../../remote/accept.ts';
import type { HttpContext } from '../context.ts';
import { redirectSuppressed, sourceTimestamp } from '../headers.ts';
import { sendBytes, sendEmpty } from '../respond.ts';

/** GET/HEAD a manifest: stored bytes and media type, whatever the `Accept` (docs/api.md, "Manifests"). */
export async function getManifest(ctx: HttpContext, ns: Namespace, reference: Reference): Promise<void> {
  const { req, res, registry, actor } = ctx;
  const redirect =
    req.method !== 'HEAD' &&
    registry.blobs.canPresign &&
    ctx.config.global.enableManifestRedirect &&
    !redirectSuppressed(req) &&
    isAuthoritative(ctx.config, ns, reference);
  const withBody = req.method !== 'HEAD' && !redirect;
  const mirrored = ctx.pullThrough?.repositoryOf(ns);
  const pulled = mirrored
    ? await ctx.pullThrough!.pullManifest(mirrored, ns, reference, forwardedAccept(req.headers.accept), actor, withBody)
    : await registry.manifests.pull(ns, reference, actor, { withBody });
  const headers = { ...ctx.extraHeaders, 'docker-content-digest': pulled.digest, 'content-type': pulled.mediaType };
  if (req.method === 'HEAD') {
    res.writeHead(200, { ...headers, 'content-length': pulled.size });
    res.end();
    return;
  }
  const location = redirect ? await registry.blobs.presign(pulled.digest, pulled.mediaType) : undefined;
  if (location !== undefined) {
    sendEmpty(res, 307, { ...headers, location });
    return;
  }
  sendBytes(req, res, 200, pulled.body ?? (await registry.manifests.body(pulled)), headers);
}

/**
 * A reference whose target cannot change behind the registry's back may be redirected (docs/api.md, "Manifests"): anything
 * outside a pull-through repository, a digest, or an immutable tag.
 */
function isAuthoritative(config: Config, ns: Namespace, reference: Reference): boolean {
  if (reference.kind === 'digest') return true;
  const repo = owningRepository(config, ns);
  return !repo || repo.upstreams.length === 0 || isImmutableTag(config, ns, reference.tag);
}

/** PUT a manifest (docs/api.md, "Manifests"). */
export async function putManifest(ctx: HttpContext, ns: Namespace, reference: Reference, tags: Tag[]): Promise<void> {
  const { req, res, registry, config } = ctx;
  const contentTypeHeader = req.headers['content-type'];
  const contentType = contentTypeHeader === undefined ? undefined : mediaTypeOfContentType(contentTypeHeader);
  if (!contentType) throw new OciError('UNSUPPORTED', 'a valid Content-Type is required');
  const limit = config.global.maxManifestSize;
  const declared = Number(req.headers['content-length']);
  // Declared too large: refused unread, holding nothing. Undeclared (chunked): may grow to the limit.
  const release = await ctx.manifestBytes.acquire(!Number.isInteger(declared) ? limit : declared > limit ? 0 : declared);
  const result = await readBody(req, limit)
    .then((body) => {
      const sourceTime = sourceTimestamp(req);
      return registry.manifests.push(ns, { reference, contentType, body, extraTags: tags, ...(sourceTime !== undefined ? { sourceTime } : {}) }, ctx.actor);
    })
    .finally(release);
  const headers: Record<string, string> = {
    location: `/v2/${ns}/manifests/${referenceString(reference)}`,
    'docker-content-digest': result.digest,
  };
  if (result.subject) headers['oci-subject'] = result.subject;
  if (result.queryTags.length > 0) headers['oci-tag'] = result.queryTags.join(', ');
  sendEmpty(res, 201, headers);
}

export async function deleteManifest({ req, res, registry, actor }: HttpContext, ns: Namespace, reference: Reference): Promise<void> {
  const sourceTime = sourceTimestamp(req);
  if (reference.kind === 'tag') await registry.manifests.deleteTag(ns, reference.tag, actor, sourceTime);
  else await registry.manifests.deleteRevision(ns, reference.digest, actor, sourceTime);
  sendEmpty(res, 202);
}

/**
 * Reads a bounded body: over `limit` bytes (declared or received) is `manifest-too-large`; at the limit passes.
 * An oversized body is drained, not destroyed, so the answer still reaches the client.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => manifestTooLarge(limit);
  if (Number(req.headers['content-length']) > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.off('end', onEnd);
      req.resume();
      reject(tooLarge());
    };
    const onEnd = () => resolve(Buffer.concat(chunks, size));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
  });
}
