import type { Digest } from '../../oci/digest.ts';
import type { MediaType } from '../../oci/media-type.ts';
import type { Tag } from '../../oci/tag.ts';
import { timeOfOrd, type TagEvent } from '../keys.ts';

/** A revision record: the manifest `digest` resolves in its namespace. Written once per push, deleted by digest delete. */
export interface RevisionRecord {
  media_type: MediaType;
  size: number;
  /** RFC 3339, microseconds when the push carried a source timestamp. */
  created_at: string;
}

/** Body of a tag event: what was pushed, so listings need not open the manifest (docs/storage.md). */
export interface TagEventBody {
  media_type?: string;
  size?: number;
  annotations?: Record<string, string>;
  /** The author time with the precision it was given (microseconds from replication), when it had more than the key's milliseconds. */
  created_at?: string;
}

/** A tag and its winning event, `set` or `del`. */
export interface TagWinner {
  tag: Tag;
  winner: TagEvent;
}

/** The current target of a tag, from its newest event group. */
export interface TagTarget {
  digest: Digest;
  /** Author time (unix ms) of the winning `set`; undefined for untimed entries (they never win against timed ones). */
  createdAt: number | undefined;
}

/** The target a winning event gives its tag: none when it is a `del` or there is no event. */
export function targetOf(winner: TagEvent | undefined): TagTarget | undefined {
  if (!winner || winner.action === 'del') return undefined;
  return { digest: winner.digest, createdAt: timeOfOrd(winner.ord) };
}
