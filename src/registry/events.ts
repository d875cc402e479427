import type { Digest } from '../oci/digest.ts';
import type { MediaType } from '../oci/media-type.ts';
import type { Namespace } from '../oci/name.ts';
import type { Reference } from '../oci/reference.ts';
import type { Tag } from '../oci/tag.ts';
import { logger } from '../observability/logging.ts';
import { RegistryError } from './errors.ts';

const log = logger('angos::registry::events');

/** Who caused a change or a pull: a client as it authenticated, or the registry itself. */
export interface Actor {
  /** `[auth.identity.<id>]` key of a Basic caller. */
  readonly id?: string;
  /** Basic username, or the subject of an OIDC token. */
  readonly username?: string;
  readonly clientIp?: string;
  /** Set when the registry acts on its own behalf (collector, retention, cache fill, replication). */
  readonly internal?: 'gc' | 'retention' | 'cache' | 'replication';
}

interface EventBase {
  readonly namespace: Namespace;
  readonly actor: Actor;
  /** When the change was authored (unix µs): now, or the source timestamp of a replicated write (never later than now). */
  readonly authoredAt: number;
}

/** A manifest stored (or stored again) under a reference. */
export interface ManifestPushed extends EventBase {
  readonly kind: 'manifest-pushed';
  readonly reference: Reference;
  readonly digest: Digest;
  readonly mediaType: MediaType;
  readonly size: number;
  readonly subject?: Digest;
  /** The tags the push set: the URL's tag, or the `?tag=` values of a push by digest (sorted, deduplicated). */
  readonly tags: readonly Tag[];
  /** Those of `tags` that did not already point at this digest. */
  readonly movedTags: readonly Tag[];
  /** Whether the digest was not yet a revision of the namespace. */
  readonly created: boolean;
}

export interface TagDeleted extends EventBase {
  readonly kind: 'tag-deleted';
  readonly tag: Tag;
  /** The digest the tag held; undefined when it held none (the delete changed nothing). */
  readonly digest?: Digest;
}

export interface RevisionDeleted extends EventBase {
  readonly kind: 'revision-deleted';
  readonly digest: Digest;
  /** Whether the digest was a revision of the namespace (false: the delete changed nothing). */
  readonly existed: boolean;
  /** Tags that pointed at it and were deleted with it. */
  readonly tags: readonly Tag[];
}

/** An upload committed: the namespace now owns the blob. */
export interface BlobUploadCompleted extends EventBase {
  readonly kind: 'blob-upload-completed';
  readonly digest: Digest;
}

export interface BlobMounted extends EventBase {
  readonly kind: 'blob-mounted';
  readonly digest: Digest;
  readonly from: Namespace;
}

/** The namespace's ownership of the blob was revoked (its bytes are reclaimed later, if nothing else holds them). */
export interface BlobDeleted extends EventBase {
  readonly kind: 'blob-deleted';
  readonly digest: Digest;
}

export interface ManifestPulled extends EventBase {
  readonly kind: 'manifest-pulled';
  readonly reference: Reference;
  readonly digest: Digest;
  readonly mediaType: MediaType;
}

export interface BlobPulled extends EventBase {
  readonly kind: 'blob-pulled';
  readonly digest: Digest;
}

/** The changes a `beforeCommit` hook may veto. */
export type ChangeEvent = ManifestPushed | TagDeleted | RevisionDeleted | BlobUploadCompleted | BlobMounted | BlobDeleted;
export type RegistryEvent = ChangeEvent | ManifestPulled | BlobPulled;

/**
 * The seam every feature that reacts to the registry plugs into (docs/architecture.md, "Registry events"): the
 * domain calls it on every write path and every served pull, so no caller emits by hand.
 */
export interface RegistryEventSink {
  /**
   * Called once a change is validated and before anything of it is stored. A rejection vetoes it: nothing is
   * stored and the operation fails with `commit-vetoed` carrying the rejection's message.
   */
  beforeCommit(event: ChangeEvent): Promise<void>;
  /** Called once the change stands, or the pull was served. Must not throw; a slow consumer must not hold the caller. */
  committed(event: RegistryEvent): void;
}

/** Accepts everything and reacts to nothing. */
export const NO_EVENTS: RegistryEventSink = { beforeCommit: async () => {}, committed: () => {} };

/** Logs every event at debug level: the sink of a server with no other consumer of events yet. */
export const LOGGED_EVENTS: RegistryEventSink = {
  beforeCommit: async () => {},
  committed: (event) => {
    if (!log.enabled('debug')) return;
    const { actor, kind, namespace } = event;
    const digest = 'digest' in event ? event.digest : undefined;
    log.debug('registry event', { kind, namespace, digest, actor_id: actor.id, username: actor.username, client_ip: actor.clientIp });
  },
};

/** How the domain calls the sink: vetoes become `commit-vetoed`, a throwing consumer is logged and ignored. */
export class Announcer {
  readonly #sink: RegistryEventSink;

  constructor(sink: RegistryEventSink) {
    this.#sink = sink;
  }

  async before(event: ChangeEvent): Promise<void> {
    try {
      await this.#sink.beforeCommit(event);
    } catch (err) {
      if (err instanceof RegistryError && err.kind === 'commit-vetoed') throw err;
      throw new RegistryError('commit-vetoed', err instanceof Error ? err.message : String(err), { cause: err });
    }
  }

  after(event: RegistryEvent): void {
    try {
      this.#sink.committed(event);
    } catch (err) {
      log.error('event consumer failed', { kind: event.kind, namespace: event.namespace, error: String(err) });
    }
  }
}

/** Unix microseconds now. */
export function nowMicros(): number {
  return Date.now() * 1000;
}
