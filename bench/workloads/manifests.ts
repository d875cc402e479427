import { expectStatus } from '../client/http-client.ts';
import { makeSmallImage, pushImage } from '../client/image.ts';
import type { LoadRequest } from '../client/load.ts';
import { OCI_MANIFEST } from '../client/oci.ts';
import type { FigureId, Measure, WorkloadContext } from '../figures.ts';
import { rateMeasure } from './rates.ts';

/** Manifest reads under load: GET by tag, GET by digest, HEAD by tag, on one small image. */
export async function prepareManifests(ctx: WorkloadContext): Promise<Measure> {
  const { client } = ctx;
  const ns = 'bench/manifest';
  const image = makeSmallImage('manifest');
  await pushImage(client, ns, 'latest', image);
  const accept = { accept: OCI_MANIFEST };
  const check = await client.send('GET', `/v2/${ns}/manifests/latest`, { headers: accept });
  expectStatus(check, 200, 'GET manifest by tag');
  if (!check.body.equals(image.manifest)) throw new Error(`GET ${ns}:latest returned other bytes than were pushed`);

  const cases: Array<[FigureId, LoadRequest]> = [
    ['manifest.get-tag', { method: 'GET', path: `/v2/${ns}/manifests/latest`, headers: accept, status: 200 }],
    ['manifest.get-digest', { method: 'GET', path: `/v2/${ns}/manifests/${image.digest}`, headers: accept, status: 200 }],
    ['manifest.head-tag', { method: 'HEAD', path: `/v2/${ns}/manifests/latest`, headers: accept, status: 200 }],
  ];
  return rateMeasure(ctx, cases);
}
