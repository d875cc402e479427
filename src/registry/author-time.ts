import type { Digest } from '../oci/digest.ts';
import { formatMicros, parseSourceTimestamp, type SourceTimestamp } from '../oci/source-timestamp.ts';
import { nowMicros } from './events.ts';
import { timeOfOrd, type TagEvent } from './keys.ts';
import type { TagEventBody } from './metadata/records.ts';

/** When a write was authored: now, or a replicated write's source time, never later than now. */
export interface AuthorTime {
  readonly micros: number;
  /** The precision of tag-event keys. */
  readonly ms: number;
  /** RFC 3339 UTC: milliseconds for a local write, microseconds for a replicated one. */
  readonly text: string;
}

export function authorTime(source: SourceTimestamp | undefined): AuthorTime {
  const now = nowMicros();
  const micros = source === undefined ? now : Math.min(source.micros, now);
  const ms = Math.floor(micros / 1000);
  return { micros, ms, text: source === undefined ? new Date(ms).toISOString() : formatMicros(micros) };
}

/**
 * Whether a tag's winning event is newer than a replicated write authored at `incoming` (docs/api.md, "Replicated
 * writes"): later wins, compared to the microsecond when the milliseconds tie (a replicated event keeps its
 * microseconds in its body, read only then); an exact tie goes to the higher digest when the incoming digest is
 * known. An untimed event never blocks.
 */
export async function supersedes(
  winner: TagEvent,
  body: () => Promise<TagEventBody>,
  incoming: AuthorTime,
  incomingDigest: Digest | undefined,
): Promise<boolean> {
  const localMs = timeOfOrd(winner.ord);
  if (localMs === undefined) return false;
  if (localMs !== incoming.ms) return localMs > incoming.ms;
  const recorded = (await body()).created_at;
  const localMicros = (recorded === undefined ? undefined : parseSourceTimestamp(recorded)?.micros) ?? localMs * 1000;
  if (localMicros !== incoming.micros) return localMicros > incoming.micros;
  return incomingDigest !== undefined && winner.digest > incomingDigest;
}
