/**
 * `X-Angos-Source-Timestamp`: the author time a replicated write carries (docs/api.md, "Replicated writes"). Only
 * RFC 3339 with an explicit offset (`Z` or `±hh:mm`) is one; anything else makes the request an ordinary write.
 * Kept in microseconds, the precision replication compares at (a `Date` would drop them).
 */
export interface SourceTimestamp {
  /** Microseconds since the Unix epoch, UTC. */
  readonly micros: number;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,30}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

export function parseSourceTimestamp(text: string): SourceTimestamp | undefined {
  const match = RFC3339.exec(text.trim());
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const offsetHours = match[10] === undefined ? 0 : Number(match[10]);
  const offsetMinutes = match[11] === undefined ? 0 : Number(match[11]);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60 || offsetHours > 23 || offsetMinutes > 59) return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59));
  // Date.UTC rolls 31 April over to 1 May: such a date does not exist.
  if (new Date(ms).getUTCDate() !== day) return undefined;
  const fraction = Number((match[7] ?? '').padEnd(6, '0').slice(0, 6));
  const offsetMs = (match[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  const micros = (ms - offsetMs) * 1000 + fraction;
  return Number.isSafeInteger(micros) && micros >= 0 ? { micros } : undefined;
}

/** Unix milliseconds, rounded down: the precision of tag-event keys. */
export function millisOf(time: SourceTimestamp): number {
  return Math.floor(time.micros / 1000);
}

/** RFC 3339 in UTC with six fraction digits, e.g. `2026-03-02T09:14:07.512348Z`. */
export function formatMicros(micros: number): string {
  const iso = new Date(Math.floor(micros / 1000)).toISOString();
  return `${iso.slice(0, 19)}.${String(micros % 1_000_000).padStart(6, '0')}Z`;
}
