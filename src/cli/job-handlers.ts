// The handler of each job kind (docs/operations.md, "Job queue"), built for the server's in-process drainers and
// for `angos worker` (again on every reload there). A kind without a handler fails: `unsupported job kind '<kind>'`.
import type { Config } from '../config/types.ts';
import type { JobHandler } from '../jobs/queue.ts';
import { fetchBlobHandler, FETCH_BLOB } from '../mirror/fill-job.ts';
import type { Upstreams } from '../mirror/upstreams.ts';
import type { Registry } from '../registry/registry.ts';

export function buildJobHandlers(parts: { config: Config; registry: Registry; upstreams: Upstreams }): ReadonlyMap<string, JobHandler> {
  const { config, registry, upstreams } = parts;
  return new Map<string, JobHandler>([[FETCH_BLOB, fetchBlobHandler({ registry, config: () => config, upstreams: () => upstreams })]]);
}
