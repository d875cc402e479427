import { clientCpuMeter } from '../client/client-cpu.ts';
import { measureRate, type LoadRequest } from '../client/load.ts';
import type { FigureId, WorkloadContext } from '../figures.ts';

/** Measures each request's rate `runs` times, interleaved so a slow phase of the machine hits every case alike. */
export async function measureRates(ctx: WorkloadContext, cases: Array<[FigureId, LoadRequest]>): Promise<void> {
  const { client, settings } = ctx;
  for (let run = 1; run <= settings.runs; run++) {
    for (const [id, request] of cases) {
      const clientCores = clientCpuMeter();
      const result = await measureRate(client.baseUrl, request, {
        connections: settings.connections,
        seconds: settings.loadSeconds,
        maxRequests: settings.maxRequestsPerLoad,
      });
      ctx.record(id, result.perSecond);
      ctx.progress(`${id} run ${run}: ${result.perSecond.toFixed(0)} req/s (${result.meanMs.toFixed(2)} ms mean, client ${clientCores().toFixed(2)} cores)`);
    }
  }
}
