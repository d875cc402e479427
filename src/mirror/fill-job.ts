import { owningRepository } from '../config/repository-lookup.ts';
import type { Config, RepositoryConfig } from '../config/types.ts';
import { isDigest, type Digest } from '../oci/digest.ts';
import { parseNamespace, type Namespace } from '../oci/name.ts';
import type { Registry } from '../registry/registry.ts';
import { TerminalJobError, type JobEnvelope, type JobHandler, type JobQueue } from '../jobs/queue.ts';
import type { Fetched } from './shared-fetch.ts';
import { firstAnswer, UpstreamsFailed, type Upstreams } from './upstreams.ts';
import type { Actor } from '../registry/events.ts';

export const FETCH_BLOB = 'cache.fetch_blob';

/** The registry's own writes into the cache, as its events name them. */
export const CACHE_ACTOR: Actor = { internal: 'cache' };

/** Queues the cache fill of a blob a client pulled through the cache; coalesces with a fill not yet claimed. */
export function enqueueFill(jobs: JobQueue, ns: Namespace, digest: Digest): Promise<'hit' | 'miss'> {
  return jobs.enqueue('cache', FETCH_BLOB, `cache.${ns}:${digest}`, { namespace: ns, digest });
}

/**
 * `cache.fetch_blob` (docs/pull-through.md, "Cache fill"): stores a blob a client pulled through the cache, through a
 * fresh upload session that verifies the digest before anything is promoted. The bytes come from a client's download
 * still running in this process when there is one (`downloads`), else from the upstreams, so caching never depends
 * on a client finishing. Idempotent: bytes already stored are only granted to the namespace.
 */
export function fetchBlobHandler(parts: {
  registry: Registry;
  config: () => Config;
  upstreams: () => Upstreams;
  downloads?: (ns: Namespace, digest: Digest) => Promise<Fetched | undefined>;
}): JobHandler {
  return async (job: JobEnvelope, signal: AbortSignal) => {
    const { ns, digest } = payloadOf(job);
    const { registry } = parts;
    if (await registry.uploads.adopt(ns, digest, CACHE_ACTOR)) return;
    const repo = owningRepository(parts.config(), ns);
    if (!repo || repo.upstreams.length === 0) throw new Error(`'${ns}' is not in a pull-through repository`);
    const fetched = (await parts.downloads?.(ns, digest)) ?? (await download(parts.upstreams(), repo, ns, digest, signal));
    const abort = () => fetched.body.destroy(new Error('the job was cancelled'));
    signal.addEventListener('abort', abort, { once: true });
    try {
      await registry.uploads.monolithic(ns, digest, fetched.body, fetched.size, CACHE_ACTOR);
    } finally {
      signal.removeEventListener('abort', abort);
    }
  };
}

async function download(upstreams: Upstreams, repo: RepositoryConfig, ns: Namespace, digest: Digest, signal: AbortSignal): Promise<Fetched> {
  let fetched;
  try {
    fetched = await firstAnswer(upstreams.of(repo), `GET blob ${ns}@${digest} (cache fill)`, (upstream) =>
      upstream.client.getBlob(upstream.client.remoteNamespace(repo.name, ns), digest, { signal }),
    );
  } catch (err) {
    if (err instanceof UpstreamsFailed && err.denied) throw new TerminalJobError(`every upstream refused ${ns}@${digest} (403)`);
    throw err;
  }
  if (fetched.status !== 200) {
    fetched.body.destroy();
    throw new Error(`upstream answered ${fetched.status} to a request without a range`);
  }
  return fetched;
}

function payloadOf(job: JobEnvelope): { ns: Namespace; digest: Digest } {
  const { namespace, digest } = job.payload;
  const ns = typeof namespace === 'string' ? parseNamespace(namespace) : undefined;
  if (!ns || typeof digest !== 'string' || !isDigest(digest)) throw new TerminalJobError(`undecodable ${FETCH_BLOB} payload`);
  return { ns, digest };
}
