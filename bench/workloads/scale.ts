import { clientCpuMeter } from '../client/client-cpu.ts';
import { expectStatus, type HttpClient, type Reply } from '../client/http-client.ts';
import { makeSmallImage, pushImage, pushMountedImage, type SmallImage } from '../client/image.ts';
import { measureListingRate, nextPagePath, type ListingLoad } from '../client/listing-load.ts';
import { OCI_MANIFEST, putManifest } from '../client/oci.ts';
import type { Instance, Measure, ScaleFigureId, WorkloadContext } from '../figures.ts';
import { createdEntries, expectSameEntries, snapshot, writeRenamed, type CreatedEntries } from '../systems/layout-copy.ts';

const TAGGED = 'scale/tags';
/** Copied tags and namespaces checked to resolve over HTTP after populating. */
const SPOT_CHECKS = 20;
/** The largest `n` this registry accepts (`pageSize` in `src/http/router.ts`); a whole listing of more takes pages. */
const LARGEST_PAGE = 65535;

type Size = 'base' | 'large';
interface Shape {
  size: Size;
  tags: number;
  namespaces: number;
}

/**
 * Tags list and catalog at two sizes, each on its own fresh server: `scaleBase` tags and namespaces, and
 * `scaleTags` tags in one namespace of a registry of `scaleNamespaces` namespaces. Two ways to list:
 * - pages of `scalePage` (`n=100`) as a client walks them, following `Link`: each connection starts at a random
 *   page and goes on to the end, then from the start (`client/listing-load.ts`); the rate is pages per second,
 *   so a registry whose page cost grows with its position or with the listing's size shows it;
 * - the whole listing with the largest page each registry serves (Distribution 2.8 ignores `n` on tags lists and
 *   cuts catalogs to `catalog.maxentries`, raised here to the size; this registry takes `n` up to 65,535, so
 *   100,000 tags are two pages); the rate is whole listings per second.
 * Both sizes of one system are measured back to back in each run, so their ratio is taken in the same moment.
 * Data is made as `populate` says: a few requests over HTTP, the rest copies of what the registry wrote for them.
 */
export async function prepareScale(ctx: WorkloadContext): Promise<Measure> {
  const { settings } = ctx;
  const shapes: Shape[] = [
    { size: 'base', tags: settings.scaleBase, namespaces: settings.scaleBase },
    { size: 'large', tags: settings.scaleTags, namespaces: settings.scaleNamespaces },
  ];
  const cases: Array<{ id: ScaleFigureId; instance: Instance; load: ListingLoad }> = [];
  for (const shape of shapes) {
    const instance = await ctx.startInstance(`scale ${shape.size}`, { catalogMaxEntries: shape.namespaces });
    const started = performance.now();
    await populate(instance, shape, makeSmallImage(`scale-${shape.size}`), ctx.progress);
    ctx.progress(`scale ${shape.size}: ${shape.tags} tags, ${shape.namespaces} namespaces in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    const tags = `/v2/${TAGGED}/tags/list`;
    const catalog = '/v2/_catalog';
    const tagNames = await wholeListing(instance.client, tags, 'tags', shape.tags);
    const namespaces = await wholeListing(instance.client, catalog, 'repositories', shape.namespaces);
    cases.push(
      { id: `scale.tags.pages.${shape.size}`, instance, load: { starts: await pageStarts(instance.client, tags, 'tags', tagNames, settings.scalePage), count: 'pages' } },
      { id: `scale.tags.whole.${shape.size}`, instance, load: { starts: [wholePath(tags, shape.tags)], count: 'whole' } },
      { id: `scale.catalog.pages.${shape.size}`, instance, load: { starts: await pageStarts(instance.client, catalog, 'repositories', namespaces, settings.scalePage), count: 'pages' } },
      { id: `scale.catalog.whole.${shape.size}`, instance, load: { starts: [wholePath(catalog, shape.namespaces)], count: 'whole' } },
    );
  }
  return async (run) => {
    for (const { id, instance, load } of cases) {
      const clientCores = clientCpuMeter();
      const result = await measureListingRate(instance.client.baseUrl, load, {
        connections: load.count === 'pages' ? settings.connections : settings.scaleWholeConnections,
        seconds: settings.loadSeconds,
        maxRequests: settings.maxRequestsPerLoad,
      });
      ctx.record(id, result.perSecond);
      const unit = load.count === 'pages' ? 'pages/s' : 'listings/s';
      ctx.progress(`${id} run ${run}: ${result.perSecond.toFixed(1)} ${unit} (${result.requests} requests, client ${clientCores().toFixed(2)} cores)`);
    }
  };
}

function tagName(i: number): string {
  return `tag-${String(i).padStart(6, '0')}`;
}

function namespaceName(i: number): string {
  return `scale/ns-${String(i).padStart(5, '0')}`;
}

/**
 * The first tags and namespaces are made over HTTP as a client makes them (the image pushed once, a tag by a
 * manifest PUT by tag, a namespace by mounting the image's blobs and putting its manifest; the tagged namespace is
 * one of the catalog's). What the registry wrote for the second tag and namespace is then copied under the other
 * names (`systems/layout-copy.ts`), after checking that the third of each, made over HTTP, came out the same.
 * Some copies are then read back through the registry.
 */
async function populate({ client, system }: Instance, shape: Shape, image: SmallImage, progress: (message: string) => void): Promise<void> {
  const root = system.dataDir!;
  const clock = performance.now();
  const lap = (what: string): void => progress(`scale ${shape.size}: ${what} at ${((performance.now() - clock) / 1000).toFixed(1)} s`);
  await pushImage(client, TAGGED, tagName(0), image);
  const made = async (name: string, request: () => Promise<void>): Promise<CreatedEntries> => {
    const before = snapshot(root);
    await request();
    return createdEntries(before, snapshot(root), name);
  };
  const tag = await made(tagName(1), () => putManifest(client, TAGGED, tagName(1), image.manifest));
  expectSameEntries(await made(tagName(2), () => putManifest(client, TAGGED, tagName(2), image.manifest)), tag, tagName(2));
  const mount = (i: number) => () => pushMountedImage(client, namespaceName(i), TAGGED, tagName(0), image);
  const namespace = await made(namespaceName(1), mount(1));
  expectSameEntries(await made(namespaceName(2), mount(2)), namespace, namespaceName(2));
  lap('templates made over HTTP');
  for (let i = 3; i < shape.tags; i++) writeRenamed(root, tag, tagName(i));
  lap('tags copied');
  for (let i = 3; i < shape.namespaces; i++) writeRenamed(root, namespace, namespaceName(i));
  lap('namespaces copied');
  // The writes above held the event loop for seconds, past the server's keep-alive timeout: let the client see
  // the idle connections the server closed meanwhile, or its next request would be sent on one of them.
  await new Promise((resolve) => setTimeout(resolve, 200));
  for (let check = 0; check < SPOT_CHECKS; check++) {
    const tagged = `/v2/${TAGGED}/manifests/${tagName(3 + Math.floor(Math.random() * (shape.tags - 3)))}`;
    const other = `/v2/${namespaceName(3 + Math.floor(Math.random() * (shape.namespaces - 3)))}/manifests/${tagName(0)}`;
    for (const path of [tagged, other]) {
      const reply = await client.send('GET', path, { headers: { accept: OCI_MANIFEST } });
      expectStatus(reply, 200, `GET ${path} (copied)`);
      if (!reply.body.equals(image.manifest)) throw new Error(`GET ${path} (copied): other bytes than were pushed`);
    }
  }
  lap('copies read back');
}

/** A listing in as few requests as the registry allows: `n` as large as it takes, then its `Link` headers. */
function wholePath(path: string, count: number): string {
  return `${path}?n=${Math.min(count, LARGEST_PAGE)}`;
}

/**
 * Reads a whole listing as the measured clients will and checks it holds exactly `count` distinct names; returns
 * them in byte order (Distribution 2.8 answers a tags list whole, in directory order; everything else comes
 * sorted, and a listing of several pages must).
 */
async function wholeListing(client: HttpClient, path: string, field: string, count: number): Promise<string[]> {
  const first = wholePath(path, count);
  const pages: string[][] = [];
  for (let next: string | undefined = first; next !== undefined; ) {
    const reply = await client.send('GET', next);
    pages.push(namesIn(reply, next, field));
    const link = reply.headers.link;
    next = nextPagePath(Array.isArray(link) ? link[0] : link, client.baseUrl);
  }
  const names = pages.flat();
  if (names.length !== count || new Set(names).size !== count) throw new Error(`${first}: expected ${count} distinct ${field}, got ${names.length}`);
  if (pages.length > 1) expectAscending(names, first);
  return names.sort();
}

/**
 * Where a client paging by `n=page` can be: the first page and the page after every `page`-th name, asked for
 * with `last` as the registry's own `Link` headers do. The first page and a few others are checked to hold the
 * next `page` names (Distribution's tags list is not paged: its only start is the first request, answered whole).
 */
async function pageStarts(client: HttpClient, path: string, field: string, names: readonly string[], page: number): Promise<string[]> {
  const first = `${path}?n=${page}`;
  const firstNames = namesIn(await client.send('GET', first), first, field);
  if (firstNames.length === names.length) return [first];
  const starts = [first];
  for (let index = page; index < names.length; index += page) starts.push(`${first}&last=${encodeURIComponent(names[index - 1]!)}`);
  for (const index of [0, 1, Math.floor(starts.length / 2), starts.length - 1]) {
    const got = index === 0 ? firstNames : namesIn(await client.send('GET', starts[index]!), starts[index]!, field);
    const expected = names.slice(index * page, index * page + page);
    if (got.join('\n') !== expected.join('\n')) throw new Error(`${starts[index]}: expected ${expected.length} ${field} from '${expected[0]}', got ${got.length} from '${got[0]}'`);
  }
  return starts;
}

function namesIn(reply: Reply, path: string, field: string): string[] {
  expectStatus(reply, 200, `GET ${path}`);
  const list = (JSON.parse(reply.body.toString('utf8')) as Record<string, unknown>)[field];
  if (!Array.isArray(list)) throw new Error(`GET ${path}: no '${field}' array`);
  return list as string[];
}

function expectAscending(names: readonly string[], what: string): void {
  for (let i = 1; i < names.length; i++) if (!(names[i - 1]! < names[i]!)) throw new Error(`${what}: '${names[i - 1]}' before '${names[i]}'`);
}
