import { expectStatus, type HttpClient } from '../client/http-client.ts';
import { makeSmallImage, pushImage } from '../client/image.ts';
import { measureRate, type LoadRequest } from '../client/load.ts';
import { OCI_MANIFEST } from '../client/oci.ts';
import type { FigureId, Measure, WorkloadContext } from '../figures.ts';
import { rateMeasure } from './rates.ts';

const NS = 'bench/manifest';
const ACCEPT = { accept: OCI_MANIFEST };
/** Unmeasured load per case on the phase's own server before its first run. */
const WARM_UP_SECONDS = 2;

/**
 * Manifest reads under load: GET by tag, GET by digest, HEAD by tag, on one small image. Angos also serves the GETs
 * from a server of the phase's own with `update_pull_time = true` (one access entry written per pull, docs/storage.md,
 * "Pull history"), measured in the same run right after the shared server's, and reported against them.
 */
export async function prepareManifests(ctx: WorkloadContext): Promise<Measure> {
  const image = await pushChecked(ctx.client);
  const cases: Array<[FigureId, LoadRequest]> = [
    ['manifest.get-tag', { method: 'GET', path: `/v2/${NS}/manifests/latest`, headers: ACCEPT, status: 200 }],
    ['manifest.get-digest', { method: 'GET', path: `/v2/${NS}/manifests/${image.digest}`, headers: ACCEPT, status: 200 }],
    ['manifest.head-tag', { method: 'HEAD', path: `/v2/${NS}/manifests/latest`, headers: ACCEPT, status: 200 }],
  ];
  const plain = rateMeasure(ctx, cases);
  if (ctx.system !== 'angos') return plain;
  const recording = await ctx.startInstance('update_pull_time', { updatePullTime: true });
  const recorded = await pushChecked(recording.client);
  const pullTimeCases: Array<[FigureId, LoadRequest]> = [
    ['manifest.get-tag.pull-time', { method: 'GET', path: `/v2/${NS}/manifests/latest`, headers: ACCEPT, status: 200 }],
    ['manifest.get-digest.pull-time', { method: 'GET', path: `/v2/${NS}/manifests/${recorded.digest}`, headers: ACCEPT, status: 200 }],
  ];
  // The instance is new: warm its manifest path up first, as the shared server's is by the phases before.
  for (const [, request] of pullTimeCases) {
    await measureRate(recording.client.baseUrl, request, { connections: ctx.settings.connections, seconds: WARM_UP_SECONDS, maxRequests: ctx.settings.maxRequestsPerLoad });
  }
  const withPullTimes = rateMeasure(ctx, pullTimeCases, recording.client);
  return async (run) => {
    await plain(run);
    await withPullTimes(run);
  };
}

/** Pushes the phase's image and checks a GET by tag returns its bytes. */
async function pushChecked(client: HttpClient): Promise<{ digest: string }> {
  const image = makeSmallImage('manifest');
  await pushImage(client, NS, 'latest', image);
  const check = await client.send('GET', `/v2/${NS}/manifests/latest`, { headers: ACCEPT });
  expectStatus(check, 200, 'GET manifest by tag');
  if (!check.body.equals(image.manifest)) throw new Error(`GET ${NS}:latest returned other bytes than were pushed`);
  return image;
}
