// The handler of each job kind (docs/operations.md, "Job queue"), built for the server's in-process drainers and
// for `angos worker` (again on every reload there). A kind without a handler fails: `unsupported job kind '<kind>'`.
import type { Config } from '../config/types.ts';
import type { JobHandler } from '../jobs/queue.ts';
import { fetchBlobHandler, FETCH_BLOB } from '../mirror/fill-job.ts';
import type { PullThrough } from '../mirror/pull-through.ts';
import type { Upstreams } from '../mirror/upstreams.ts';
import type { Digest } from '../oci/digest.ts';
import type { Namespace } from '../oci/name.ts';
import type { Registry } from '../registry/registry.ts';

/** `pullThrough`: the server's, whose clients' downloads still running a cache fill may read instead of its own. */
export function buildJobHandlers(parts: { config: Config; registry: Registry; upstreams: Upstreams; pullThrough?: PullThrough }): ReadonlyMap<string, JobHandler> {
  const { config, registry, upstreams, pullThrough } = parts;
  const fetchBlob = fetchBlobHandler({
    registry,
    config: () => config,
    upstreams: () => upstreams,
    ...(pullThrough ? { downloads: (ns: Namespace, digest: Digest) => pullThrough.joinDownload(ns, digest) } : {}),
  });
  return new Map<string, JobHandler>([[FETCH_BLOB, fetchBlob]]);
}
