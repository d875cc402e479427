import { clientCpuMeter } from '../client/client-cpu.ts';
import type { HttpClient } from '../client/http-client.ts';
import { measureRate, type LoadRequest } from '../client/load.ts';
import type { FigureId, Measure, WorkloadContext } from '../figures.ts';

/**
 * One run measures each request's rate in turn, so a slow phase of the machine hits every case alike; on the
 * system's shared server, or on `client`'s (a server of the phase's own).
 */
export function rateMeasure(ctx: WorkloadContext, cases: Array<[FigureId, LoadRequest]>, client: HttpClient = ctx.client): Measure {
  const { settings } = ctx;
  return async (run) => {
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
  };
}
