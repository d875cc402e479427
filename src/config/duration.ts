// Command-line durations (`1h`, `30m`, `1h 30m`, `2d`, as `scrub --multipart` takes them), the humantime grammar
// the original accepted, so existing cron lines keep working.

const NANOS_PER_SECOND = 1_000_000_000n;
const UNIT_NANOS = new Map<string, bigint>();
function units(names: string[], nanos: bigint): void {
  for (const name of names) UNIT_NANOS.set(name, nanos);
}
units(['ns', 'nsec', 'nanos'], 1n);
units(['us', 'usec', 'µs'], 1_000n);
units(['ms', 'msec', 'millis'], 1_000_000n);
units(['s', 'sec', 'secs', 'second', 'seconds'], NANOS_PER_SECOND);
units(['m', 'min', 'mins', 'minute', 'minutes'], 60n * NANOS_PER_SECOND);
units(['h', 'hr', 'hrs', 'hour', 'hours'], 3_600n * NANOS_PER_SECOND);
units(['d', 'day', 'days'], 86_400n * NANOS_PER_SECOND);
units(['w', 'wk', 'wks', 'week', 'weeks'], 604_800n * NANOS_PER_SECOND);
units(['M', 'month', 'months'], 2_630_016n * NANOS_PER_SECOND);
units(['y', 'yr', 'yrs', 'year', 'years'], 31_557_600n * NANOS_PER_SECOND);

// Milliseconds are what timers take; beyond 2^53 ms (~285 000 years) the value could not be exact.
const MAX_NANOS = BigInt(Number.MAX_SAFE_INTEGER) * 1_000_000n;

export class DurationError extends Error {}

// One group: digits, optional blanks, a unit made of letters (`µ` included).
const GROUP = /^(\d+)[ \t]*([A-Za-zµ]+)/;

/** Milliseconds (fractional below 1 ms) for `"0"` or one or more summed `<integer><unit>` groups. */
export function parseDuration(text: string): number {
  let rest = text.trim();
  if (rest === '') throw new DurationError('empty duration');
  if (rest === '0') return 0;
  let total = 0n;
  while (rest !== '') {
    const match = GROUP.exec(rest);
    if (!match) {
      if (/^\d+(?:[ \t]*$|\.)/.test(rest)) throw new DurationError(`invalid duration '${text}': expected a unit after the number (e.g. 1h, 30m, 2d)`);
      throw new DurationError(`invalid duration '${text}': expected <integer><unit> groups (e.g. 1h, 30m, 2d)`);
    }
    const [whole, digits = '', unit = ''] = match;
    const nanos = UNIT_NANOS.get(unit);
    if (nanos === undefined) throw new DurationError(`invalid duration '${text}': unknown unit '${unit}'`);
    total += BigInt(digits) * nanos;
    if (total > MAX_NANOS) throw new DurationError(`invalid duration '${text}': too large`);
    rest = rest.slice(whole.length).trimStart();
  }
  return Number(total) / 1_000_000;
}
