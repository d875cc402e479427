import { createHash } from 'node:crypto';
import { isImmutableTag, owningRepository } from '../config/repository-lookup.ts';
import type { Config, RepositoryConfig } from '../config/types.ts';
import { digestAlgorithm, isDigest, makeDigest, type Digest } from '../oci/digest.ts';
import type { Descriptor } from '../oci/manifest.ts';
import { isMediaType, mediaTypeOfContentType, type MediaType } from '../oci/media-type.ts';
import type { Namespace } from '../oci/name.ts';
import { referenceString, type Reference } from '../oci/reference.ts';
import { logger } from '../observability/logging.ts';
import { RegistryError, isRegistryError } from '../registry/errors.ts';
import type { Actor } from '../registry/events.ts';
import type { StoredManifest } from '../registry/manifests.ts';
import type { Registry } from '../registry/registry.ts';
import type { JobQueue } from '../jobs/queue.ts';
import { CACHE_ACTOR, enqueueFill } from './fill-job.ts';
import { SharedFetches, type Fetched } from './shared-fetch.ts';
import { firstAnswer, UpstreamsFailed, type Upstreams } from './upstreams.ts';

const log = logger('angos::mirror');

export interface PulledManifest extends StoredManifest {
  body?: Buffer;
}

/** What a blob request that missed the cache relays from an upstream. */
export interface RelayedBlob {
  /** 200, or 206 for a range the upstream honoured. */
  readonly status: number;
  readonly size: number;
  readonly contentRange: string | undefined;
  readonly body: Fetched['body'];
}

/**
 * The pull-through cache (docs/pull-through.md): the decision table that serves a mirrored namespace from storage or
 * from its upstreams, storing what it fetches through the registry's normal write paths.
 */
export class PullThrough {
  readonly #registry: Registry;
  readonly #config: () => Config;
  readonly #upstreams: () => Upstreams;
  readonly #jobs: JobQueue;
  readonly #fetches = new SharedFetches();
  /** Manifest fetches in flight, so concurrent misses of one reference store it once. */
  readonly #manifestFetches = new Map<string, Promise<void>>();

  constructor(parts: { registry: Registry; config: () => Config; upstreams: () => Upstreams; jobs: JobQueue }) {
    this.#registry = parts.registry;
    this.#config = parts.config;
    this.#upstreams = parts.upstreams;
    this.#jobs = parts.jobs;
  }

  /** The pull-through repository `ns` belongs to, if any. */
  repositoryOf(ns: Namespace): RepositoryConfig | undefined {
    const repo = owningRepository(this.#config(), ns);
    return repo && repo.upstreams.length > 0 ? repo : undefined;
  }

  /** A manifest GET or HEAD in a pull-through namespace: the decision table of docs/pull-through.md. */
  async pullManifest(repo: RepositoryConfig, ns: Namespace, reference: Reference, accept: readonly string[], actor: Actor, withBody: boolean): Promise<PulledManifest> {
    const pull = () => this.#registry.manifests.pull(ns, reference, actor, { withBody });
    if (reference.kind === 'digest' || isImmutableTag(this.#config(), ns, reference.tag)) {
      // The stored copy is authoritative: served as it is, fetched only when missing.
      const pulled = await pull().catch(unlessUnknown);
      if (pulled) return pulled;
      await this.#fetchManifest(repo, ns, reference, accept);
      return pull();
    }
    const local = await this.#registry.manifests.stat(ns, reference).catch(unlessUnknown);
    if (!local) {
      await this.#fetchManifest(repo, ns, reference, accept);
      return pull();
    }
    const upstreams = this.#upstreams().of(repo);
    try {
      const head = await firstAnswer(upstreams, `HEAD manifest ${ns}:${reference.tag}`, (upstream) =>
        upstream.client.headManifest(upstream.client.remoteNamespace(repo.name, ns), reference.tag, accept),
      );
      if (head.digest !== local.digest) await this.#fetchManifest(repo, ns, reference, accept);
    } catch (err) {
      // No upstream answered the HEAD, or the GET that followed it: the stored copy is served stale.
      if (!(err instanceof UpstreamsFailed) && !isRegistryError(err, 'manifest-unknown')) throw err;
      log.warn(`serving the cached ${ns}:${reference.tag} (${local.digest}): no upstream could revalidate it`);
    }
    return pull();
  }

  /** Fetches and stores a manifest, once for concurrent callers; `manifest-unknown` when no upstream has it. */
  #fetchManifest(repo: RepositoryConfig, ns: Namespace, reference: Reference, accept: readonly string[]): Promise<void> {
    const key = `${ns}\n${referenceString(reference)}`;
    let fetching = this.#manifestFetches.get(key);
    if (!fetching) {
      fetching = this.#storeManifest(repo, ns, reference, accept).finally(() => this.#manifestFetches.delete(key));
      this.#manifestFetches.set(key, fetching);
    }
    return fetching;
  }

  async #storeManifest(repo: RepositoryConfig, ns: Namespace, reference: Reference, accept: readonly string[]): Promise<void> {
    const name = referenceString(reference);
    let fetched;
    try {
      fetched = await firstAnswer(this.#upstreams().of(repo), `GET manifest ${ns}:${name}`, (upstream) =>
        upstream.client.getManifest(upstream.client.remoteNamespace(repo.name, ns), name, accept),
      );
    } catch (err) {
      if (err instanceof UpstreamsFailed) throw new RegistryError('manifest-unknown', 'manifest unknown', { cause: err });
      throw err;
    }
    const { body } = fetched;
    const claimed = reference.kind === 'digest' ? reference.digest : isDigest(fetched.digest) ? fetched.digest : undefined;
    if (claimed === undefined || hashOf(body, claimed) !== claimed) {
      throw new RegistryError('manifest-invalid', `the upstream's manifest for ${name} does not match its digest ${claimed ?? fetched.digest}`);
    }
    const contentType = mediaTypeOfContentType(fetched.mediaType) ?? mediaTypeOfBody(body);
    if (!contentType) throw new RegistryError('manifest-invalid', `the upstream's manifest for ${name} has no media type`);
    await this.#registry.manifests.push(ns, { reference, contentType, body, extraTags: [], trusted: true }, CACHE_ACTOR);
  }

  /** A blob HEAD that missed the cache: the upstream's digest and size, nothing cached. */
  async headBlob(repo: RepositoryConfig, ns: Namespace, digest: Digest, accept: readonly string[]): Promise<{ size: number }> {
    try {
      return await firstAnswer(this.#upstreams().of(repo), `HEAD blob ${ns}@${digest}`, (upstream) =>
        upstream.client.headBlob(upstream.client.remoteNamespace(repo.name, ns), digest, accept),
      );
    } catch (err) {
      throw blobUnknown(err, digest);
    }
  }

  /**
   * A blob GET that missed the cache: the upstream's body streamed through, and a cache fill queued. Without a range,
   * concurrent clients share one download; a range is forwarded as it came.
   */
  async getBlob(repo: RepositoryConfig, ns: Namespace, digest: Digest, range: string | undefined, accept: readonly string[]): Promise<RelayedBlob> {
    const fetch = (requested: string | undefined) =>
      firstAnswer(this.#upstreams().of(repo), `GET blob ${ns}@${digest}`, async (upstream) => {
        const remoteNs = upstream.client.remoteNamespace(repo.name, ns);
        const answer = await upstream.client.getBlob(remoteNs, digest, { ...(requested !== undefined ? { range: requested } : {}), accept });
        if (requested === undefined && answer.status !== 200) {
          answer.body.destroy();
          throw new Error(`answered ${answer.status} to a request without a range`);
        }
        return answer;
      });
    try {
      if (range !== undefined) {
        const relayed = await fetch(range);
        this.#queueFill(ns, digest);
        return relayed;
      }
      const shared = await this.#fetches.open(downloadKey(ns, digest), () => fetch(undefined));
      // Every miss asks for the fill: the queue coalesces them into one job while it waits to be claimed.
      this.#queueFill(ns, digest);
      return { status: 200, size: shared.size, contentRange: undefined, body: shared.body };
    } catch (err) {
      throw blobUnknown(err, digest);
    }
  }

  /**
   * The download of a blob a client started and that is still running in this process, read from byte 0: a cache
   * fill takes its bytes from there instead of downloading them again (docs/pull-through.md, "Cache fill").
   */
  joinDownload(ns: Namespace, digest: Digest): Promise<Fetched | undefined> {
    return this.#fetches.join(downloadKey(ns, digest));
  }

  /** The upstream's referrers of `subject`, merged into the local list by the caller; [] when no upstream answers. */
  async upstreamReferrers(repo: RepositoryConfig, ns: Namespace, subject: Digest): Promise<Descriptor[]> {
    try {
      const listed = await firstAnswer(this.#upstreams().of(repo), `referrers of ${ns}@${subject}`, (upstream) =>
        upstream.client.listReferrers(upstream.client.remoteNamespace(repo.name, ns), subject),
      );
      return listed.filter((d): d is Descriptor => isDigest(d.digest) && isMediaType(d.mediaType) && Number.isSafeInteger(d.size) && d.size >= 0);
    } catch (err) {
      if (!(err instanceof UpstreamsFailed)) throw err;
      return [];
    }
  }

  #queueFill(ns: Namespace, digest: Digest): void {
    enqueueFill(this.#jobs, ns, digest).catch((err: unknown) => log.warn(`cannot queue the cache fill of ${ns}@${digest}: ${(err as Error).message}`));
  }
}

function unlessUnknown(err: unknown): undefined {
  if (isRegistryError(err, 'manifest-unknown')) return undefined;
  throw err;
}

function downloadKey(ns: Namespace, digest: Digest): string {
  return `${ns}\n${digest}`;
}

function blobUnknown(err: unknown, digest: Digest): unknown {
  if (!(err instanceof UpstreamsFailed)) return err;
  return new RegistryError('blob-unknown', `blob ${digest} unknown to this repository`, { cause: err });
}

function hashOf(body: Buffer, like: Digest): Digest {
  const algorithm = digestAlgorithm(like);
  return makeDigest(algorithm, createHash(algorithm).update(body).digest('hex'));
}

/** The `mediaType` a manifest body declares, for an upstream that sent no usable `Content-Type`. */
function mediaTypeOfBody(body: Buffer): MediaType | undefined {
  try {
    const declared = (JSON.parse(body.toString('utf8')) as { mediaType?: unknown }).mediaType;
    return typeof declared === 'string' && isMediaType(declared) ? declared : undefined;
  } catch {
    return undefined;
  }
}

