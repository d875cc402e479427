import type { Cache } from '../cache/cache.ts';
import type { Config, RepositoryConfig } from '../config/types.ts';
import { logger } from '../observability/logging.ts';
import { RemoteError } from '../remote/remote-error.ts';
import { openRemote, type RemoteRegistry } from '../remote/remote-registry.ts';

const log = logger('angos::mirror');

/** One upstream of a pull-through repository: its client and the URL to name it by in logs. */
export interface Upstream {
  readonly url: string;
  readonly client: RemoteRegistry;
}

/** Every upstream of a repository failed the operation (each failure was logged). */
export class UpstreamsFailed extends Error {
  /** Every upstream refused access (403): retrying cannot help until someone changes the upstream's grants. */
  readonly denied: boolean;
  constructor(message: string, denied: boolean) {
    super(message);
    this.name = 'UpstreamsFailed';
    this.denied = denied;
  }
}

/**
 * The remote clients of every pull-through repository (docs/pull-through.md), opened from one configuration: TLS
 * files are read here, so an unreadable one fails start-up, and a reload that cannot open them keeps the old set.
 */
export class Upstreams {
  readonly #byRepository: ReadonlyMap<string, readonly Upstream[]>;

  private constructor(byRepository: ReadonlyMap<string, readonly Upstream[]>) {
    this.#byRepository = byRepository;
  }

  static async open(config: Config, cache: Cache): Promise<Upstreams> {
    const byRepository = new Map<string, Upstream[]>();
    const deps = { cache, maxManifestSize: () => config.global.maxManifestSize };
    try {
      for (const repo of config.repositories) {
        if (repo.upstreams.length === 0) continue;
        const opened: Upstream[] = [];
        byRepository.set(repo.name, opened);
        for (const [index, upstream] of repo.upstreams.entries()) {
          const section = `repository."${repo.name}".upstream[${index}]`;
          opened.push({ url: upstream.url, client: await openRemote(upstream, { ...deps, section }) });
        }
      }
    } catch (err) {
      await new Upstreams(byRepository).close();
      throw err;
    }
    return new Upstreams(byRepository);
  }

  of(repo: RepositoryConfig): readonly Upstream[] {
    return this.#byRepository.get(repo.name) ?? [];
  }

  async close(): Promise<void> {
    await Promise.all([...this.#byRepository.values()].flat().map((upstream) => upstream.client.close()));
  }
}

/**
 * Calls the upstreams in order until one answers (docs/pull-through.md, "Failover"); each failure is logged and the
 * next upstream tried. No health is remembered: every call starts at the first.
 */
export async function firstAnswer<T>(upstreams: readonly Upstream[], what: string, call: (upstream: Upstream) => Promise<T>): Promise<T> {
  let denied = upstreams.length > 0;
  for (const upstream of upstreams) {
    try {
      return await call(upstream);
    } catch (err) {
      const remote = err instanceof RemoteError ? err : undefined;
      denied &&= remote?.denied === true;
      const message = `upstream ${upstream.url}: ${what}: ${(err as Error).message}`;
      if (remote?.status === 404) log.debug(message);
      else log.warn(message);
    }
  }
  throw new UpstreamsFailed(`no upstream answered ${what}`, denied);
}
