import { clientCpuMeter } from '../client/client-cpu.ts';
import { makeSmallImage, pushImage } from '../client/image.ts';
import { forEachLimited } from '../client/load.ts';
import type { Measure, WorkloadContext } from '../figures.ts';

/** Pushes of many small images (HEAD + POST + PUT per blob, then the manifest), one at a time and several at once. */
export async function prepareSmallImages(ctx: WorkloadContext): Promise<Measure> {
  const { client, settings } = ctx;
  return async (run) => {
    for (const parallel of [1, settings.smallImagesParallel]) {
      const id = parallel === 1 ? 'images.sequential' : 'images.parallel';
      const images = Array.from({ length: settings.smallImages }, (_, i) => makeSmallImage(`${id}-${run}-${i}`));
      const clientCores = clientCpuMeter();
      const started = performance.now();
      await forEachLimited(images.length, parallel, (i) => pushImage(client, `bench/images/${id}-${run}/app-${i % 10}`, `v${i}`, images[i]!));
      const rate = images.length / ((performance.now() - started) / 1000);
      ctx.record(id, rate);
      ctx.progress(`${id} run ${run}: ${rate.toFixed(1)} images/s, client ${clientCores().toFixed(2)} cores`);
    }
  };
}
