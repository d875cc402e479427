import { expectStatus } from '../client/http-client.ts';
import { makeSmallImage, pushImage, pushMountedImage } from '../client/image.ts';
import { forEachLimited, type LoadRequest } from '../client/load.ts';
import { putManifest } from '../client/oci.ts';
import type { FigureId, Measure, WorkloadContext } from '../figures.ts';
import { rateMeasure } from './rates.ts';

const SETUP_PARALLEL = 8;

/**
 * Tags list on a namespace with `tagCount` tags and the catalog of `namespaceCount` namespaces. Runs first on a
 * fresh registry so the catalog holds exactly that many namespaces.
 */
export async function prepareListings(ctx: WorkloadContext): Promise<Measure> {
  const { client, settings } = ctx;
  const tagged = 'bench/tags';
  const image = makeSmallImage('listings');
  await pushImage(client, tagged, 'tag-0000', image);
  await forEachLimited(settings.tagCount - 1, SETUP_PARALLEL, (i) => putManifest(client, tagged, tagName(i + 1), image.manifest));
  // The tagged namespace is one of the catalog's namespaces; the others get the same image by mount.
  await forEachLimited(settings.namespaceCount - 1, SETUP_PARALLEL, (i) =>
    pushMountedImage(client, `bench/catalog/ns-${String(i + 1).padStart(4, '0')}`, tagged, 'latest', image),
  );
  ctx.progress(`listings: ${settings.tagCount} tags and ${settings.namespaceCount} namespaces pushed`);

  const n = Math.max(settings.tagCount, settings.namespaceCount);
  const tagsPath = `/v2/${tagged}/tags/list?n=${n}`;
  const catalogPath = `/v2/_catalog?n=${n}`;
  await expectCount(ctx, tagsPath, 'tags', settings.tagCount);
  await expectCount(ctx, catalogPath, 'repositories', settings.namespaceCount);

  const cases: Array<[FigureId, LoadRequest]> = [
    ['tags.list', { method: 'GET', path: tagsPath, status: 200 }],
    ['catalog', { method: 'GET', path: catalogPath, status: 200 }],
  ];
  return rateMeasure(ctx, cases);
}

function tagName(i: number): string {
  return `tag-${String(i).padStart(4, '0')}`;
}

/** The measured request must return the whole listing, or the figure would compare different work. */
async function expectCount(ctx: WorkloadContext, path: string, field: string, count: number): Promise<void> {
  const reply = await ctx.client.send('GET', path);
  expectStatus(reply, 200, `GET ${path}`);
  const list = (JSON.parse(reply.body.toString('utf8')) as Record<string, unknown>)[field];
  const got = Array.isArray(list) ? list.length : -1;
  if (got !== count) throw new Error(`GET ${path}: expected ${count} ${field}, got ${got}`);
}
