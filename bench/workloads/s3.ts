import { BlobSource } from '../blob-source.ts';
import { clientCpuMeter } from '../client/client-cpu.ts';
import { downloadBlob } from '../client/download.ts';
import { expectStatus, type HttpClient } from '../client/http-client.ts';
import { makeSmallImage, pushImage } from '../client/image.ts';
import { forEachLimited, type LoadRequest } from '../client/load.ts';
import { OCI_MANIFEST, pushMonolithic, putManifest } from '../client/oci.ts';
import { MB, type FigureId, type Measure, type WorkloadContext } from '../figures.ts';
import type { RadosGateway } from '../systems/rgw.ts';
import { rateMeasure } from './rates.ts';

const SETUP_PARALLEL = 8;
const PULLED = 'bench/s3-pull';
const TAGGED = 'bench/s3-tags';
const MANIFEST = 'bench/s3-manifest';

/** One blob content for both systems (each push sends a variant of it), made on first use. */
let blobSource: Promise<BlobSource> | undefined;
let pushes = 0;

/**
 * The filesystem phases' workloads on S3, smaller: both registries store everything on the same Ceph RADOS Gateway
 * (`systems/rgw.ts`), a bucket each, and each runs as two servers of the phase's own on that bucket, one with
 * redirects off (blobs and manifests answered inline) and one with them on (a blob GET answers `307` to a
 * presigned URL, which the client follows to the gateway). Per run: a monolithic blob push; the blob pulled inline
 * and through the redirect; manifest GET by tag and a tags list under load; small images pushed one at a time.
 * In this registry's turn the gateway itself also serves the object this registry pulls inline, by a presigned
 * URL fetched with the same client: the `rgw` reference ("pull inline ÷ direct S3 GET").
 */
export async function prepareS3(ctx: WorkloadContext, gateway: RadosGateway): Promise<Measure> {
  const { settings } = ctx;
  const blobs = await (blobSource ??= BlobSource.create(settings.s3BlobBytes));
  const bucket = await gateway.createBucket(`bench-${ctx.system}`);
  const inline = await ctx.startInstance('s3 inline', { s3: { ...bucket, redirect: false } });
  const redirect = await ctx.startInstance('s3 redirect', { s3: { ...bucket, redirect: true } });
  const client = inline.client;

  await pushMonolithic(client, PULLED, blobs.base);
  const blobPath = `/v2/${PULLED}/blobs/${blobs.base.digest}`;
  const inlineUrl = new URL(blobPath, client.baseUrl);
  const redirectUrl = new URL(blobPath, redirect.client.baseUrl);
  // The reference reads the very object this registry serves inline.
  const direct =
    ctx.system === 'angos'
      ? new URL(await gateway.presignedGet(bucket.bucket, await gateway.blobKey(bucket.bucket, blobs.base.digest, blobs.base.size)))
      : undefined;
  // Warm-ups: each server's (and the gateway's) first answer pays for compiling its code path.
  await downloadBlob(inlineUrl, blobs.base.size);
  await downloadBlob(redirectUrl, blobs.base.size, true);
  if (direct !== undefined) await downloadBlob(direct, blobs.base.size);

  const image = makeSmallImage(`s3-${ctx.system}`);
  await pushImage(client, MANIFEST, 'latest', image);
  const accept = { accept: OCI_MANIFEST };
  const check = await client.send('GET', `/v2/${MANIFEST}/manifests/latest`, { headers: accept });
  expectStatus(check, 200, 'GET manifest by tag on S3');
  if (!check.body.equals(image.manifest)) throw new Error(`GET ${MANIFEST}:latest on S3 returned other bytes than were pushed`);

  const tagged = makeSmallImage(`s3-tags-${ctx.system}`);
  await pushImage(client, TAGGED, tagName(0), tagged);
  await forEachLimited(settings.s3TagCount - 1, SETUP_PARALLEL, (i) => putManifest(client, TAGGED, tagName(i + 1), tagged.manifest));
  const tagsPath = `/v2/${TAGGED}/tags/list?n=${settings.s3TagCount}`;
  await expectTags(client, tagsPath, settings.s3TagCount);
  ctx.progress(`s3: bucket ${bucket.bucket}, blob of ${blobs.base.size} bytes, image and ${settings.s3TagCount} tags pushed`);

  const cases: Array<[FigureId, LoadRequest]> = [
    ['s3.manifest.get-tag', { method: 'GET', path: `/v2/${MANIFEST}/manifests/latest`, headers: accept, status: 200 }],
    ['s3.tags.list', { method: 'GET', path: tagsPath, status: 200 }],
  ];
  const rates = rateMeasure(ctx, cases, client);

  const pull = async (id: FigureId, url: URL, follow: boolean, run: number, as?: 'rgw'): Promise<void> => {
    const clientCores = clientCpuMeter();
    const started = performance.now();
    await downloadBlob(url, blobs.base.size, follow);
    const rate = blobs.base.size / MB / ((performance.now() - started) / 1000);
    ctx.record(id, rate, as);
    ctx.progress(`${id} run ${run}: ${rate.toFixed(0)} MB/s, client ${clientCores().toFixed(2)} cores`);
  };

  return async (run) => {
    const blob = blobs.variant(++pushes);
    let started = performance.now();
    await pushMonolithic(client, `bench/s3-push-${ctx.system}`, blob);
    const pushRate = blob.size / MB / ((performance.now() - started) / 1000);
    ctx.record('s3.push.monolithic', pushRate);
    ctx.progress(`s3.push.monolithic run ${run}: ${pushRate.toFixed(0)} MB/s`);

    await pull('s3.pull.inline', inlineUrl, false, run);
    if (direct !== undefined) await pull('s3.pull.direct', direct, false, run, 'rgw');
    await pull('s3.pull.redirect', redirectUrl, true, run);

    await rates(run);

    const images = Array.from({ length: settings.s3SmallImages }, (_, i) => makeSmallImage(`s3-images-${ctx.system}-${run}-${i}`));
    started = performance.now();
    await forEachLimited(images.length, 1, (i) => pushImage(client, `bench/s3-images-${run}/app-${i % 10}`, `v${i}`, images[i]!));
    const imageRate = images.length / ((performance.now() - started) / 1000);
    ctx.record('s3.images.sequential', imageRate);
    ctx.progress(`s3.images.sequential run ${run}: ${imageRate.toFixed(1)} images/s`);
  };
}

function tagName(i: number): string {
  return `tag-${String(i).padStart(4, '0')}`;
}

/** The measured request must return the whole listing, or the figure would compare different work. */
async function expectTags(client: HttpClient, path: string, count: number): Promise<void> {
  const reply = await client.send('GET', path);
  expectStatus(reply, 200, `GET ${path}`);
  const tags = (JSON.parse(reply.body.toString('utf8')) as { tags?: unknown }).tags;
  const got = Array.isArray(tags) ? tags.length : -1;
  if (got !== count) throw new Error(`GET ${path} on S3: expected ${count} tags, got ${got}`);
}
