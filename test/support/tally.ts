/** Counts of what a reliability test looks for, each with what happened; a test asserts them all 0. */
export class Tally<K extends string> {
  readonly counts: Record<K, number>;
  /** One line per occurrence, for the diagnostics (the counts say how often). */
  readonly problems: string[] = [];

  constructor(kinds: readonly K[]) {
    this.counts = Object.fromEntries(kinds.map((kind) => [kind, 0])) as Record<K, number>;
  }

  /** Records `times` occurrences of `kind` (several requests that failed alike are one line). */
  flag(kind: K, what: string, times = 1): void {
    this.counts[kind] += times;
    this.problems.push(`${kind}: ${what}`);
  }

  /** The value `counts` must equal: every kind at 0. */
  get zeroes(): Record<K, number> {
    return Object.fromEntries(Object.keys(this.counts).map((kind) => [kind, 0])) as Record<K, number>;
  }

  /** Prints the counts and the first `limit` problems as test diagnostics. */
  report(t: { diagnostic(message: string): void }, limit = 20): void {
    t.diagnostic(`counts: ${JSON.stringify(this.counts)}`);
    for (const problem of this.problems.slice(0, limit)) t.diagnostic(problem);
    if (this.problems.length > limit) t.diagnostic(`… and ${this.problems.length - limit} more`);
  }
}
