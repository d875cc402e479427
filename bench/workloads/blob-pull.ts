import { clientCpuMeter } from '../client/client-cpu.ts';
import { curlDownload } from '../client/curl.ts';
import { pushMonolithic } from '../client/oci.ts';
import { encodeRequest, RawConnection } from '../client/raw-connection.ts';
import { MB, type Measure, type WorkloadContext } from '../figures.ts';

/** Socket reads of 1 MiB keep the per-read overhead of a 256 MiB body negligible. */
const READ_BUFFER = 1024 * 1024;

/**
 * Blob download throughput, one stream and several in parallel, with two clients. A registry first gets the base
 * blob (the file nginx serves); nginx is given its static `path`. The in-process client counts bodies in a
 * reused read buffer, never kept (node:http's client tops out near 300 MB/s here, far below nginx), yet still
 * tops out near 2.4 GB/s; curl (`client/curl.ts`) receives several times faster, so its figures show the
 * servers' send paths.
 */
export async function prepareBlobPull(ctx: WorkloadContext, staticPath?: string): Promise<Measure> {
  const { settings, blobs, client } = ctx;
  let path = staticPath;
  if (path === undefined) {
    const ns = 'bench/pull';
    await pushMonolithic(client, ns, blobs.base);
    path = `/v2/${ns}/blobs/${blobs.base.digest}`;
  }
  const request = encodeRequest('GET', client.baseUrl.host, path, {});
  // A connection per download: its set-up is nothing next to the body, and no server's keep-alive policy matters.
  const download = async (): Promise<void> => {
    const connection = await RawConnection.open(client.baseUrl.hostname, Number(client.baseUrl.port), READ_BUFFER);
    try {
      const head = await connection.send('GET', request);
      if (head.status !== 200 || head.contentLength !== blobs.base.size) {
        throw new Error(`GET ${path}: expected 200 with ${blobs.base.size} bytes, got ${head.status} with length ${head.contentLength}`);
      }
    } finally {
      connection.close();
    }
  };
  const url = new URL(path, client.baseUrl).href;
  const curl = async (streams: number): Promise<number> => {
    const transfers = await curlDownload(Array.from({ length: streams }, () => url));
    for (const transfer of transfers) {
      if (transfer.status !== 200 || transfer.bytes !== blobs.base.size) {
        throw new Error(`curl ${url}: expected 200 with ${blobs.base.size} bytes, got ${transfer.status} with ${transfer.bytes}`);
      }
    }
    // The streams start together; the slowest one's time bounds them all.
    return (streams * blobs.base.size) / MB / Math.max(...transfers.map((transfer) => transfer.seconds));
  };
  await download(); // warm-up: the first read may come from disk for one system only
  await curl(1);
  return async (run) => {
    for (const streams of [1, settings.pullStreams]) {
      const clientCores = clientCpuMeter();
      const started = performance.now();
      await Promise.all(Array.from({ length: streams }, download));
      const rate = (streams * blobs.base.size) / MB / ((performance.now() - started) / 1000);
      ctx.record(streams === 1 ? 'pull.single' : 'pull.parallel', rate);
      ctx.progress(`pull ${streams} stream(s) run ${run}: ${rate.toFixed(0)} MB/s, client ${clientCores().toFixed(2)} cores`);
      const native = await curl(streams);
      ctx.record(streams === 1 ? 'pull.single.curl' : 'pull.parallel.curl', native);
      ctx.progress(`pull ${streams} stream(s) with curl run ${run}: ${native.toFixed(0)} MB/s`);
    }
  };
}
