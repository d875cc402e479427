import type { Digest } from '../../oci/digest.ts';
import { OciError } from '../../oci/errors.ts';
import type { Namespace } from '../../oci/name.ts';
import type { HttpContext } from '../context.ts';
import { sendJson } from '../respond.ts';

/** GET /v2/<name>/tags/list (docs/api.md, "Tags list"). */
export async function listTags(ctx: HttpContext, ns: Namespace, n: number, last: string | undefined): Promise<void> {
  const { req, res, registry } = ctx;
  const page = await registry.listings.tagPage(ns, n, last);
  if (page.items.length === 0 && !(await registry.listings.holdsContent(ns))) {
    throw new OciError('NAME_UNKNOWN', `repository '${ns}' not known to registry`);
  }
  const headers: Record<string, string> = { ...ctx.extraHeaders };
  if (page.more) headers.link = nextLink(`/v2/${ns}/tags/list`, { n: String(n), last: page.items[page.items.length - 1]! });
  sendJson(req, res, 200, { name: ns, tags: page.items }, headers);
}

/** GET /v2/_catalog (docs/api.md, "Catalog"). */
export async function listCatalog({ req, res, registry }: HttpContext, n: number, last: string | undefined): Promise<void> {
  const page = await registry.listings.catalogPage(n, last);
  const headers: Record<string, string> = {};
  if (page.more) headers.link = nextLink('/v2/_catalog', { n: String(n), last: page.items[page.items.length - 1]! });
  sendJson(req, res, 200, { repositories: page.items }, headers);
}

/** GET /v2/<name>/referrers/<digest> (docs/api.md, "Referrers"): always 200. */
export async function listReferrers(
  ctx: HttpContext,
  ns: Namespace,
  subject: Digest,
  artifactType: string | undefined,
  last: string | undefined,
): Promise<void> {
  const { req, res, registry } = ctx;
  const mirrored = ctx.pullThrough?.repositoryOf(ns);
  // A pull-through namespace lists its upstream's referrers too, read again for every page (docs/pull-through.md).
  const upstream = mirrored ? await ctx.pullThrough!.upstreamReferrers(mirrored, ns, subject) : undefined;
  const page = await registry.referrers.list(ns, subject, {
    ...(artifactType !== undefined ? { artifactType } : {}),
    ...(last !== undefined ? { last } : {}),
    ...(upstream ? { upstream } : {}),
  });
  const headers: Record<string, string> = { ...ctx.extraHeaders, 'content-type': 'application/vnd.oci.image.index.v1+json' };
  if (artifactType !== undefined) headers['oci-filters-applied'] = 'artifactType';
  if (page.next) {
    const query: Record<string, string> = artifactType !== undefined ? { artifactType, last: page.next } : { last: page.next };
    headers.link = nextLink(`/v2/${ns}/referrers/${subject}`, query);
  }
  sendJson(req, res, 200, { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: page.manifests }, headers);
}

/**
 * A `rel="next"` link; only the characters that would change a query's meaning are percent-encoded (docs/api.md,
 * "Listings").
 */
function nextLink(path: string, query: Record<string, string>): string {
  const search = Object.entries(query)
    .map(([key, value]) => `${key}=${value.replace(/[%+&# ]/g, (c) => encodeURIComponent(c))}`)
    .join('&');
  return `<${path}?${search}>; rel="next"`;
}
