import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { expectStatus, type HttpClient } from '../client/http-client.ts';
import { makeSmallImage, pushImage, type SmallImage } from '../client/image.ts';
import { forEachLimited, type LoadRequest } from '../client/load.ts';
import { OCI_MANIFEST, sha256 } from '../client/oci.ts';
import { encodeRequest, RawConnection } from '../client/raw-connection.ts';
import type { Instance, Measure, WorkloadContext } from '../figures.ts';
import { distributionGarbageCollect } from '../systems/distribution-gc.ts';
import type { RunningSystem } from '../systems/system.ts';

const NAMESPACES = 10;
const ACCEPT = { accept: OCI_MANIFEST };
/** How often the blob files of the deleted images are checked while Angos collects. */
const POLL_MS = 50;
/**
 * A bound on the wait for Angos' collector, so one that never finishes fails the run: generous, as under the GET
 * load the collector of this version took 8 to 15 minutes for 2,000 images on the 2-core benchmark machine.
 */
const RECLAIM_TIMEOUT_MS = 30 * 60_000;
/** Unmeasured GET load on a fresh instance before its idle rate is measured. */
const WARM_UP_MS = 3000;
const MiB = 1024 * 1024;

/** One pushed image and where it lives. */
interface Placed {
  image: SmallImage;
  ns: string;
  tag: string;
}

/**
 * Garbage collection: each run pushes `gcImages` small images (config + one layer, all distinct) to a fresh server of
 * the phase's own, deletes every second one by manifest digest, and times how long the deleted images' bytes
 * (manifest, config and layer blob) take to leave the blob store. Angos collects in the background while it serves
 * (`gc_*` settings at 0, so a run starts at the first delete), timed from the last delete's answer until the last of
 * those files is gone, with a manifest GET load on a kept image meanwhile, compared with the same load before the
 * deletes. Distribution cannot collect while it serves: it is stopped after the deletes and its offline
 * `garbage-collect` is timed until it exits. Each run starts on fresh storage, so every run sees the same data shape.
 */
export async function prepareGc(ctx: WorkloadContext): Promise<Measure> {
  return (run) => (ctx.system === 'angos' ? measureAngos(ctx, run) : measureDistribution(ctx, run));
}

async function measureAngos(ctx: WorkloadContext, run: number): Promise<void> {
  const instance = await ctx.startInstance(`gc run ${run}`, { eagerGc: true });
  const { kept, deleted } = await populate(ctx, instance, run);
  const root = blobRoot(instance.system);
  const keep = kept[0]!;
  const get: LoadRequest = { method: 'GET', path: `/v2/${keep.ns}/manifests/${keep.tag}`, headers: ACCEPT, status: 200 };
  // The instance has served no GET yet: warm its manifest path up first, as the shared servers' figures are.
  const warmUntil = performance.now() + WARM_UP_MS;
  await rateWhile(instance.client.baseUrl, get, ctx.settings.connections, () => performance.now() < warmUntil);
  const idleUntil = performance.now() + ctx.settings.loadSeconds * 1000;
  const idle = await rateWhile(instance.client.baseUrl, get, ctx.settings.connections, () => performance.now() < idleUntil);
  ctx.record('gc.manifest-get.idle', idle.perSecond);
  ctx.progress(`gc run ${run}: manifest GET idle ${idle.perSecond.toFixed(0)} req/s ${load()}`);

  const before = await blobBytes(root);
  const deletes = await deleteAll(ctx, instance.client, deleted);
  const watch = watchGone(deleted.flatMap((placed) => blobFiles(root, placed.image)));
  const during = await rateWhile(instance.client.baseUrl, get, ctx.settings.connections, () => !watch.done() && !watch.timedOut()).catch((error: unknown) => {
    watch.stop();
    throw error;
  });
  const reclaimedAt = await watch.finished;
  const seconds = (reclaimedAt - deletes.lastAnswer) / 1000;
  const after = await blobBytes(root);
  checkKept(root, kept);
  ctx.record('gc.reclaim', seconds);
  ctx.record('gc.reclaimed', (before.bytes - after.bytes) / MiB);
  // Bytes already gone when the load began leave no window to measure in.
  if (during.requests > 0) ctx.record('gc.manifest-get', during.perSecond);
  ctx.progress(
    `gc run ${run}: ${deleted.length} deletes in ${deletes.seconds.toFixed(1)} s; bytes gone ${seconds.toFixed(2)} s after the last ` +
      `(${((reclaimedAt - deletes.firstSent) / 1000).toFixed(2)} s after the first), ${before.files - after.files} blob files, ` +
      `${((before.bytes - after.bytes) / MiB).toFixed(2)} MiB; manifest GET meanwhile ${during.perSecond.toFixed(0)} req/s ` +
      `(${(during.perSecond / idle.perSecond).toFixed(2)}× idle) ${load()}`,
  );
}

async function measureDistribution(ctx: WorkloadContext, run: number): Promise<void> {
  const instance = await ctx.startInstance(`gc run ${run}`, { deleteEnabled: true });
  const { kept, deleted } = await populate(ctx, instance, run);
  const root = blobRoot(instance.system);
  const deletes = await deleteAll(ctx, instance.client, deleted);
  instance.client.close();
  await instance.system.stop();
  const before = await blobBytes(root);
  const configFile = instance.system.configFile!;
  const seconds = await distributionGarbageCollect(configFile, join(dirname(configFile), 'garbage-collect.log'));
  const after = await blobBytes(root);
  const left = deleted.flatMap((placed) => blobFiles(root, placed.image)).filter((file) => existsSync(file));
  if (left.length > 0) throw new Error(`Distribution's garbage-collect left ${left.length} blob files of deleted images, such as ${left[0]}`);
  checkKept(root, kept);
  ctx.record('gc.reclaim', seconds);
  ctx.record('gc.reclaimed', (before.bytes - after.bytes) / MiB);
  ctx.progress(
    `gc run ${run}: ${deleted.length} deletes in ${deletes.seconds.toFixed(1)} s; stopped; garbage-collect ${seconds.toFixed(2)} s, ` +
      `${before.files - after.files} blob files, ${((before.bytes - after.bytes) / MiB).toFixed(2)} MiB ${load()}`,
  );
}

/** Pushes the run's images, `parallel` at a time, over ten namespaces; every second one is to be deleted. */
async function populate(ctx: WorkloadContext, instance: Instance, run: number): Promise<{ kept: Placed[]; deleted: Placed[] }> {
  const placed = Array.from({ length: ctx.settings.gcImages }, (_, i): Placed => ({
    image: makeSmallImage(`gc-${run}-${i}`),
    ns: `bench/gc/app-${i % NAMESPACES}`,
    tag: `v${i}`,
  }));
  const started = performance.now();
  await forEachLimited(placed.length, ctx.settings.smallImagesParallel, (i) => pushImage(instance.client, placed[i]!.ns, placed[i]!.tag, placed[i]!.image));
  ctx.progress(`gc run ${run}: pushed ${placed.length} images in ${((performance.now() - started) / 1000).toFixed(1)} s ${load()}`);
  return { kept: placed.filter((_, i) => i % 2 === 0), deleted: placed.filter((_, i) => i % 2 === 1) };
}

/** DELETE of each manifest by digest, as many at once as the pushes; when the first was sent and the last answered. */
async function deleteAll(ctx: WorkloadContext, client: HttpClient, images: Placed[]): Promise<{ firstSent: number; lastAnswer: number; seconds: number }> {
  const firstSent = performance.now();
  await forEachLimited(images.length, ctx.settings.smallImagesParallel, async (i) => {
    const { ns, image } = images[i]!;
    const reply = await client.send('DELETE', `/v2/${ns}/manifests/${image.digest}`);
    expectStatus(reply, 202, `DELETE ${ns} manifest ${image.digest}`);
  });
  const lastAnswer = performance.now();
  return { firstSent, lastAnswer, seconds: (lastAnswer - firstSent) / 1000 };
}

/** Where a system's filesystem storage keeps blob bytes (`<alg>/<2 hex>/<hex>/data` below it, in both). */
function blobRoot(system: RunningSystem): string {
  if (system.dataDir === undefined) throw new Error(`${system.name} has no data directory`);
  return system.name === 'distribution' ? join(system.dataDir, 'docker/registry/v2/blobs') : join(system.dataDir, 'v2/blobs');
}

/** The data files of an image's manifest, config and layer. */
function blobFiles(root: string, image: SmallImage): string[] {
  return [image.digest, sha256(image.config), sha256(image.layer)].map((digest) => {
    const hex = digest.slice('sha256:'.length);
    return join(root, 'sha256', hex.slice(0, 2), hex, 'data');
  });
}

function checkKept(root: string, kept: Placed[]): void {
  const missing = kept.flatMap((placed) => blobFiles(root, placed.image)).filter((file) => !existsSync(file));
  if (missing.length > 0) throw new Error(`the collector removed ${missing.length} blob files of kept images, such as ${missing[0]}`);
}

/** Blob data files below `root` and their total size. */
async function blobBytes(root: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name !== 'data') continue;
    files += 1;
    bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return { files, bytes };
}

/**
 * Checks every `POLL_MS` whether all `files` are gone; `finished` resolves with the time that was first seen. A file
 * once gone stays gone (nothing pushes it again), so each check resumes at the first file still there.
 */
function watchGone(files: string[]): { done(): boolean; timedOut(): boolean; stop(): void; finished: Promise<number> } {
  const giveUp = performance.now() + RECLAIM_TIMEOUT_MS;
  let next = 0;
  let goneAt: number | undefined;
  let stopped = false;
  const finished = (async () => {
    while (!stopped) {
      while (next < files.length && !existsSync(files[next]!)) next += 1;
      if (next === files.length) return (goneAt = performance.now());
      if (performance.now() > giveUp) {
        const left = files.slice(next).filter((file) => existsSync(file));
        throw new Error(`the collector left ${left.length} of ${files.length} blob files of deleted images for ${RECLAIM_TIMEOUT_MS / 1000} s, such as ${left[0]}`);
      }
      await new Promise((done) => setTimeout(done, POLL_MS));
    }
    throw new Error('stopped watching');
  })();
  // Awaited only once the load stops: a time-out meanwhile must not count as an unhandled rejection.
  finished.catch(() => undefined);
  return { done: () => goneAt !== undefined, timedOut: () => performance.now() > giveUp, stop: () => (stopped = true), finished };
}

/**
 * Closed-loop request rate over `connections` keep-alive connections, as `measureRate` measures it, for as long as
 * `going()` holds (asked before each request): the GC window has no length known in advance.
 */
async function rateWhile(baseUrl: URL, request: LoadRequest, connections: number, going: () => boolean): Promise<{ perSecond: number; requests: number }> {
  const port = Number(baseUrl.port);
  const encoded = encodeRequest(request.method, baseUrl.host, request.path, request.headers ?? {});
  const sockets = await Promise.all(Array.from({ length: connections }, () => RawConnection.open(baseUrl.hostname, port)));
  const started = performance.now();
  let requests = 0;
  const loop = async (index: number): Promise<void> => {
    while (going()) {
      const head = await sockets[index]!.send(request.method, encoded);
      requests += 1;
      if (head.status !== request.status) throw new Error(`${request.method} ${request.path}: expected HTTP ${request.status}, got ${head.status}`);
      if (head.close || !sockets[index]!.usable) {
        sockets[index]!.close();
        sockets[index] = await RawConnection.open(baseUrl.hostname, port);
      }
    }
  };
  try {
    await Promise.all(sockets.map((_, index) => loop(index)));
  } finally {
    for (const socket of sockets) socket.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: requests / seconds, requests };
}

function load(): string {
  return `(load average ${loadavg().map((value) => value.toFixed(2)).join(' ')})`;
}
