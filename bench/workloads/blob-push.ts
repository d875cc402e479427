import { clientCpuMeter } from '../client/client-cpu.ts';
import { expectStatus } from '../client/http-client.ts';
import { pushChunked, pushMonolithic } from '../client/oci.ts';
import { MB, type Measure, type WorkloadContext } from '../figures.ts';

let pushes = 0;

/** Blob push throughput, both ways a client uploads a large layer; every push sends a blob new to the registry. */
export async function prepareBlobPush(ctx: WorkloadContext): Promise<Measure> {
  const { client, settings, blobs } = ctx;
  return async (run) => {
    for (const mode of ['monolithic', 'chunked'] as const) {
      const blob = blobs.variant(++pushes);
      const ns = `bench/push-${mode}`;
      const clientCores = clientCpuMeter();
      const started = performance.now();
      if (mode === 'monolithic') await pushMonolithic(client, ns, blob);
      else await pushChunked(client, ns, blob, settings.chunkBytes);
      const rate = blob.size / MB / ((performance.now() - started) / 1000);
      ctx.record(`push.${mode}`, rate);
      ctx.progress(`push ${mode} run ${run}: ${rate.toFixed(0)} MB/s, client ${clientCores().toFixed(2)} cores`);
    }
  };
}

/**
 * The machine's push ceiling (`systems/write-ceiling.ts`): one PUT of a blob of the same size, from the same client
 * and byte source, into a server that only hashes it and writes it to a new file.
 */
export async function prepareCeilingPush(ctx: WorkloadContext): Promise<Measure> {
  const { client, blobs } = ctx;
  const put = async (): Promise<void> => {
    const blob = blobs.variant(++pushes);
    const reply = await client.send('PUT', `/upload?digest=${encodeURIComponent(blob.digest)}`, {
      headers: { 'content-type': 'application/octet-stream', 'content-length': blob.size },
      body: blob.bytes(),
    });
    expectStatus(reply, 201, 'PUT to the write ceiling');
  };
  // The registries have served every earlier phase by now; the ceiling's process is fresh, and its first push
  // ran at about half the rate of the next ones (its code not yet compiled), so it gets one unmeasured push.
  await put();
  return async (run) => {
    const clientCores = clientCpuMeter();
    const started = performance.now();
    await put();
    const rate = blobs.base.size / MB / ((performance.now() - started) / 1000);
    ctx.record('push.ceiling', rate);
    ctx.progress(`push ceiling run ${run}: ${rate.toFixed(0)} MB/s, client ${clientCores().toFixed(2)} cores`);
  };
}
