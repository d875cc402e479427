import type { Blob } from '../blob-source.ts';
import { clientCpuMeter } from '../client/client-cpu.ts';
import { curlDownload } from '../client/curl.ts';
import { expectStatus } from '../client/http-client.ts';
import { makeSmallImage, pushImage } from '../client/image.ts';
import { measureRate, type LoadRequest } from '../client/load.ts';
import { OCI_MANIFEST, pushMonolithic, putManifest } from '../client/oci.ts';
import { MB, PULL_THROUGH_CLIENTS, type FigureId, type Instance, type Measure, type WorkloadContext } from '../figures.ts';
import { PULL_THROUGH_REPOSITORY } from '../systems/angos.ts';
import { blobRequests, requestsBetween, type PullThroughUpstream } from '../systems/pull-through-upstream.ts';

const ACCEPT = { accept: OCI_MANIFEST };
/** Unmeasured load per manifest case on the fresh cache before its first run. */
const WARM_UP_SECONDS = 1;
const POLL_MS = 50;
/** How long the upstream must have had no GET of a blob in flight before the cache is checked to hold it. */
const SETTLE_MS = 250;
/** A fill that has not landed by then fails the run. */
const FILL_TIMEOUT_MS = 120_000;

/** Every blob pushed to the upstream is a distinct variant of the run's content. */
let pushed = 0;

/**
 * The pull-through phase (`systems/pull-through-upstream.ts`): each registry runs as a cache of the phase's own in
 * front of the same upstream, a plain Distribution whose log counts the requests it serves; nginx serves the warm
 * pull's reference. Per run, for each cache: a blob pushed to the upstream just before is pulled through the cache
 * by one client (cold), then, once the fill has landed (`waitForFill`), pulled again (warm; the upstream must see
 * no GET of it meanwhile); another fresh blob is pulled by `PULL_THROUGH_CLIENTS` clients at once, counting the
 * upstream's GETs of it until the cache holds it; manifest GETs by mutable tag (`latest`), immutable tag (`v1`)
 * and digest under load, with the upstream requests they caused. In this registry's turn, a fresh blob is also
 * pulled straight from the upstream: the `upstream` reference of the cold pull. Pulls use curl, one connection
 * each, bodies to /dev/null.
 */
export async function preparePullThrough(ctx: WorkloadContext, upstream: PullThroughUpstream, nginxPath: string): Promise<Measure> {
  if (ctx.system === 'nginx') return prepareNginx(ctx, nginxPath);
  const cache = await ctx.startInstance('pull-through cache', { pullThroughUpstream: upstream.url });
  const tag = `${ctx.system} pull-through cache`;
  /** The cache's name of an upstream repository. */
  const local = (repo: string): string => (ctx.system === 'angos' ? `${PULL_THROUGH_REPOSITORY}/${repo}` : repo);
  const cacheBlobUrl = (repo: string, blob: Blob): string => new URL(`/v2/${local(repo)}/blobs/${blob.digest}`, cache.client.baseUrl).href;

  /** A blob the upstream holds and the cache has never seen, in a repository of its own. */
  const freshBlob = async (purpose: string): Promise<{ repo: string; blob: Blob }> => {
    const n = ++pushed;
    const repo = `bench/pull-through-${ctx.system}/${purpose}-${n}`;
    const blob = ctx.blobs.variant(n);
    await pushMonolithic(upstream.client, repo, blob);
    return { repo, blob };
  };

  /**
   * Pulls `blob` from `url` `clients` times at once with curl; each must be a 200 with the whole blob (else the
   * error says what the upstream saw of the blob meanwhile). Seconds of each.
   */
  const pull = async (url: string, blob: Blob, what: string, clients = 1): Promise<number[]> => {
    const before = blobRequests(await upstream.requests(), undefined, blob.digest).count;
    const transfers = await curlDownload(Array.from({ length: clients }, () => url));
    for (const transfer of transfers) {
      if (transfer.status !== 200 || transfer.bytes !== blob.size) {
        const seen = blobRequests(await upstream.requests(), undefined, blob.digest).count - before;
        throw new Error(
          `${tag}: ${what}: GET ${url}: expected 200 with ${blob.size} bytes, got ${transfer.status} with ${transfer.bytes} bytes ` +
            `(the upstream saw ${seen} request(s) for the blob meanwhile)`,
        );
      }
    }
    return transfers.map((transfer) => transfer.seconds);
  };

  /**
   * Waits until the cache holds the blob: no upstream GET of it in flight for SETTLE_MS, then a HEAD of it on the
   * cache that makes no upstream request for it (else wait and check again). A HEAD rather than a pull, since a pull
   * that missed would fetch the blob once more; still, a HEAD that misses may (Distribution serves a HEAD as a GET
   * with the body dropped, so it reads the whole blob upstream). GETs of the blob that start during a check are the
   * bench's own doing: they are counted apart (`checkFetches`), not in `fetches`.
   */
  const waitForFill = async (repo: string, blob: Blob, what: string): Promise<{ fetches: number; checks: number; checkFetches: number }> => {
    const giveUp = Date.now() + FILL_TIMEOUT_MS;
    const path = `/v2/${local(repo)}/blobs/${blob.digest}`;
    let checkFetches = 0;
    for (let checks = 1; ; checks++) {
      let quietSince: number | undefined;
      for (;;) {
        const gets = blobRequests(await upstream.requests(), 'GET', blob.digest);
        const now = Date.now();
        quietSince = gets.inFlight > 0 ? undefined : (quietSince ?? now);
        if (quietSince !== undefined && now - quietSince >= SETTLE_MS) break;
        if (now > giveUp) throw new Error(`${tag}: ${what}: the upstream still serves the blob after ${FILL_TIMEOUT_MS / 1000} s (${gets.count} GETs, ${gets.inFlight} in flight)`);
        await sleep(POLL_MS);
      }
      const snapshot = await upstream.requests();
      const before = blobRequests(snapshot, undefined, blob.digest).count;
      const getsBefore = blobRequests(snapshot, 'GET', blob.digest).count;
      const head = await cache.client.send('HEAD', path);
      expectStatus(head, 200, `${tag}: ${what}: HEAD ${path}`);
      const tallies = await upstream.requests();
      const gets = blobRequests(tallies, 'GET', blob.digest).count;
      checkFetches += gets - getsBefore;
      if (blobRequests(tallies, undefined, blob.digest).count === before) return { fetches: gets - checkFetches, checks, checkFetches };
      if (Date.now() > giveUp) {
        throw new Error(`${tag}: ${what}: the fill never landed: after ${FILL_TIMEOUT_MS / 1000} s a HEAD of the blob on the cache still reaches the upstream (${gets} GETs of it so far)`);
      }
    }
  };

  /** Cold pull, fill, warm pull of one fresh blob; `record` false for the warm-up. */
  const coldAndWarm = async (run: number, record: boolean): Promise<void> => {
    const { repo, blob } = await freshBlob(record ? `cold-run-${run}` : 'warm-up');
    const url = cacheBlobUrl(repo, blob);
    const [coldSeconds] = await pull(url, blob, record ? 'cold pull' : 'cold pull (warm-up)');
    const coldEnded = performance.now();
    const fill = await waitForFill(repo, blob, record ? 'fill after the cold pull' : 'fill after the cold pull (warm-up)');
    const landedAfter = (performance.now() - coldEnded) / 1000;
    const before = blobRequests(await upstream.requests(), 'GET', blob.digest).count;
    const [warmSeconds] = await pull(url, blob, record ? 'warm pull' : 'warm pull (warm-up)');
    const during = blobRequests(await upstream.requests(), 'GET', blob.digest).count - before;
    if (during > 0) throw new Error(`${tag}: warm pull was not served locally: the upstream saw ${during} GET(s) of the blob during it`);
    const cold = rate(blob, coldSeconds!);
    const warm = rate(blob, warmSeconds!);
    if (record) {
      ctx.record('pullthrough.cold', cold);
      ctx.record('pullthrough.warm', warm);
    }
    ctx.progress(
      `pull-through ${record ? `run ${run}` : 'warm-up'}: cold ${cold.toFixed(0)} MB/s; held ${landedAfter.toFixed(2)} s later ` +
        `(${fill.fetches} upstream GETs of the blob${checkNote(fill)}); warm ${warm.toFixed(0)} MB/s`,
    );
  };

  const direct = async (run: number): Promise<void> => {
    const { repo, blob } = await freshBlob(`direct-run-${run}`);
    const url = new URL(`/v2/${repo}/blobs/${blob.digest}`, upstream.url).href;
    const [seconds] = await pull(url, blob, 'direct pull from the upstream');
    ctx.record('pullthrough.direct', rate(blob, seconds!), 'upstream');
    ctx.progress(`pull-through run ${run}: direct pull from the upstream ${rate(blob, seconds!).toFixed(0)} MB/s`);
  };

  const concurrent = async (run: number): Promise<void> => {
    const { repo, blob } = await freshBlob(`concurrent-run-${run}`);
    const seconds = Math.max(...(await pull(cacheBlobUrl(repo, blob), blob, `${PULL_THROUGH_CLIENTS} clients at once`, PULL_THROUGH_CLIENTS)));
    const byClients = blobRequests(await upstream.requests(), 'GET', blob.digest).count;
    const fill = await waitForFill(repo, blob, `fill after ${PULL_THROUGH_CLIENTS} clients at once`);
    ctx.record('pullthrough.concurrent.time', seconds);
    ctx.record('pullthrough.concurrent.fetches', fill.fetches);
    ctx.progress(
      `pull-through run ${run}: ${PULL_THROUGH_CLIENTS} clients at once ${seconds.toFixed(2)} s (${((PULL_THROUGH_CLIENTS * blob.size) / MB / seconds).toFixed(0)} MB/s in all); ` +
        `upstream GETs of the blob: ${fill.fetches} (${byClients} by the time the clients finished${checkNote(fill)})`,
    );
  };

  const manifests = await prepareManifestCases(ctx, upstream, cache, local, tag);

  // The cache is fresh: its first blob miss and fill pay for compiling their code paths.
  await coldAndWarm(0, false);

  return async (run) => {
    if (ctx.system === 'angos') await direct(run);
    await coldAndWarm(run, true);
    await concurrent(run);
    await manifests(run);
  };
}

/**
 * One image in the upstream with a mutable tag (`latest`) and an immutable one (`v1`), fetched once through the
 * cache by each reference (bytes checked), then the measure of GETs by each under load.
 */
async function prepareManifestCases(
  ctx: WorkloadContext,
  upstream: PullThroughUpstream,
  cache: Instance,
  local: (repo: string) => string,
  tag: string,
): Promise<Measure> {
  const repo = `bench/pull-through-${ctx.system}/manifest`;
  const image = makeSmallImage(`pull-through-${ctx.system}`);
  await pushImage(upstream.client, repo, 'latest', image);
  await putManifest(upstream.client, repo, 'v1', image.manifest);
  const cases: Array<[FigureId, string]> = [
    ['pullthrough.manifest.get-mutable-tag', `/v2/${local(repo)}/manifests/latest`],
    ['pullthrough.manifest.get-immutable-tag', `/v2/${local(repo)}/manifests/v1`],
    ['pullthrough.manifest.get-digest', `/v2/${local(repo)}/manifests/${image.digest}`],
  ];
  const requests = cases.map(([id, path]): [FigureId, LoadRequest] => [id, { method: 'GET', path, headers: ACCEPT, status: 200 }]);
  const load = { connections: ctx.settings.connections, maxRequests: ctx.settings.maxRequestsPerLoad };
  for (const [, path] of cases) {
    const before = await upstream.requests();
    const reply = await cache.client.send('GET', path, { headers: ACCEPT });
    const seen = Object.entries(requestsBetween(before, await upstream.requests())).map(([method, n]) => `${n} ${method}`);
    expectStatus(reply, 200, `${tag}: first GET ${path} (upstream requests meanwhile: ${seen.length === 0 ? 'none' : seen.join(', ')})`);
    if (!reply.body.equals(image.manifest)) throw new Error(`${tag}: GET ${path} returned other bytes than the upstream holds`);
  }
  for (const [, request] of requests) await measureRate(cache.client.baseUrl, request, { ...load, seconds: WARM_UP_SECONDS });
  return async (run) => {
    for (const [id, request] of requests) {
      const clientCores = clientCpuMeter();
      const before = await upstream.requests();
      const result = await measureRate(cache.client.baseUrl, request, { ...load, seconds: ctx.settings.loadSeconds });
      const upstreamRequests = requestsBetween(before, await upstream.requests());
      const total = Object.values(upstreamRequests).reduce((sum, n) => sum + n, 0);
      const byMethod = Object.entries(upstreamRequests).map(([method, n]) => `${n} ${method}`).join(', ');
      ctx.record(id, result.perSecond);
      ctx.progress(
        `${id} run ${run}: ${result.perSecond.toFixed(0)} req/s (${result.meanMs.toFixed(2)} ms mean, client ${clientCores().toFixed(2)} cores); ` +
          `upstream requests: ${total === 0 ? 'none' : `${byMethod}, ${(total / result.requests).toFixed(2)} per GET`}`,
      );
    }
  };
}

/** The warm pull's reference: nginx serving a file of the blob size, with the same client. */
async function prepareNginx(ctx: WorkloadContext, path: string): Promise<Measure> {
  const url = new URL(path, ctx.client.baseUrl).href;
  const size = ctx.blobs.base.size;
  const pull = async (): Promise<number> => {
    const [transfer] = await curlDownload([url]);
    if (transfer!.status !== 200 || transfer!.bytes !== size) {
      throw new Error(`nginx: GET ${url}: expected 200 with ${size} bytes, got ${transfer!.status} with ${transfer!.bytes} bytes`);
    }
    return transfer!.seconds;
  };
  await pull(); // warm-up, as the caches' first pulls are
  return async (run) => {
    const seconds = await pull();
    ctx.record('pullthrough.warm', size / MB / seconds);
    ctx.progress(`pull-through run ${run}: nginx ${(size / MB / seconds).toFixed(0)} MB/s`);
  };
}

/** How many checks it took to see the blob held, and the upstream GETs they caused, if any. */
function checkNote(fill: { checks: number; checkFetches: number }): string {
  if (fill.checks === 1) return '';
  return `; ${fill.checks} HEAD checks${fill.checkFetches > 0 ? `, which caused ${fill.checkFetches} more GET(s), not counted` : ''}`;
}

function rate(blob: Blob, seconds: number): number {
  return blob.size / MB / seconds;
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
