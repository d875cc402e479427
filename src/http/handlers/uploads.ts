import type { IncomingMessage } from 'node:http';
import type { Digest, DigestAlgorithm } from '../../oci/digest.ts';
import { digestAlgorithm } from '../../oci/digest.ts';
import type { Namespace } from '../../oci/name.ts';
import { parseContentLength, parseUploadContentRange } from '../../oci/range.ts';
import type { SessionId } from '../../oci/session-id.ts';
import { isRegistryError } from '../../registry/errors.ts';
import type { Chunk } from '../../registry/uploads.ts';
import type { HttpContext } from '../context.ts';
import { sendEmpty, uploadRange } from '../respond.ts';

/** POST …/blobs/uploads/ without `mount` (docs/api.md, "Uploads"). */
export async function startUpload(ctx: HttpContext, ns: Namespace, digest: Digest | undefined, algorithm: DigestAlgorithm | undefined): Promise<void> {
  const { req, registry } = ctx;
  if (digest === undefined) return openSession(ctx, ns, algorithm);
  const length = parseContentLength(req.headers['content-length']);
  if (await readable(ctx, ns, digest)) return created(ctx, ns, digest);
  if (length === undefined) return openSession(ctx, ns, digestAlgorithm(digest));
  await registry.uploads.monolithic(ns, digest, req, length, ctx.actor);
  created(ctx, ns, digest);
}

/** POST …/blobs/uploads/?mount=… (docs/api.md, "Mounts"): an unsatisfiable mount quietly opens a session instead. */
export async function mountBlob(ctx: HttpContext, ns: Namespace, digest: Digest, from: Namespace | undefined): Promise<void> {
  const mounted = await ctx.registry.blobs.mount(ns, digest, from, (source) => ctx.mayPerform('get-blob', source), ctx.actor);
  if (mounted) return created(ctx, ns, digest);
  return openSession(ctx, ns, undefined);
}

export async function getUpload({ res, registry }: HttpContext, ns: Namespace, session: SessionId): Promise<void> {
  const status = await registry.uploads.status(ns, session);
  sendEmpty(res, 204, sessionHeaders(ns, session, status.size));
}

export async function patchUpload({ req, res, registry }: HttpContext, ns: Namespace, session: SessionId): Promise<void> {
  const size = await registry.uploads.append(ns, session, readChunk(req));
  sendEmpty(res, 202, sessionHeaders(ns, session, size));
}

export async function completeUpload(ctx: HttpContext, ns: Namespace, session: SessionId, digest: Digest): Promise<void> {
  await ctx.registry.uploads.complete(ns, session, digest, readChunk(ctx.req), ctx.actor);
  created(ctx, ns, digest);
}

export async function cancelUpload({ res, registry }: HttpContext, ns: Namespace, session: SessionId): Promise<void> {
  await registry.uploads.cancel(ns, session);
  sendEmpty(res, 204);
}

/** The chunk framing of a PATCH/PUT, checked in the order of docs/api.md, "Uploads". */
function readChunk(req: IncomingMessage): Chunk {
  // Node has already refused repeated Content-Length headers and joined repeated Content-Range ones, which then
  // fail to parse: each is one string here.
  const range = parseUploadContentRange(req.headers['content-range']);
  const length = parseContentLength(req.headers['content-length']);
  const hasBody = length !== undefined ? length > 0 : req.headers['transfer-encoding'] !== undefined;
  return { body: hasBody ? req : undefined, range, length };
}

async function readable({ registry }: HttpContext, ns: Namespace, digest: Digest): Promise<boolean> {
  try {
    await registry.blobs.stat(ns, digest);
    return true;
  } catch (err) {
    if (isRegistryError(err, 'blob-unknown')) return false;
    throw err;
  }
}

async function openSession({ res, registry }: HttpContext, ns: Namespace, algorithm: DigestAlgorithm | undefined): Promise<void> {
  const session = await registry.uploads.start(ns, algorithm);
  sendEmpty(res, 202, sessionHeaders(ns, session, 0));
}

function created({ res }: HttpContext, ns: Namespace, digest: Digest): void {
  sendEmpty(res, 201, { location: `/v2/${ns}/blobs/${digest}`, 'docker-content-digest': digest });
}

function sessionHeaders(ns: Namespace, session: SessionId, size: number): Record<string, string> {
  return {
    location: `/v2/${ns}/blobs/uploads/${session}`,
    'docker-upload-uuid': session,
    range: uploadRange(size),
  };
}
