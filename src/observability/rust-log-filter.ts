// The `RUST_LOG` grammar (docs/operations.md, "Logs"), kept compatible so filters written for the original
// (`warn,angos::registry=debug`) keep working unchanged.

export const LEVELS = ['off', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type Level = Exclude<(typeof LEVELS)[number], 'off'>;
export type LevelFilter = (typeof LEVELS)[number];

/** Severity rank: a record is emitted when its rank is <= the filter's rank (`off` = 0 emits nothing). */
export function levelRank(level: LevelFilter): number {
  return LEVELS.indexOf(level);
}

export interface TargetDirective {
  readonly target: string;
  readonly level: LevelFilter;
}

export interface LogFilter {
  /** Bare-level directive; `undefined` falls back to `error`, as the original does. */
  readonly defaultLevel: LevelFilter | undefined;
  /** Sorted longest target first, so the first prefix match is the most specific one. */
  readonly directives: readonly TargetDirective[];
  /** Directives that could not be parsed, as written (after trimming). */
  readonly invalid: readonly string[];
}

function parseLevel(text: string): LevelFilter | undefined {
  const lower = text.trim().toLowerCase();
  return (LEVELS as readonly string[]).includes(lower) ? (lower as LevelFilter) : undefined;
}

// A target is a module path such as `angos::registry` or `angos_storage`; anything that could be
// mistaken for the directive syntax itself is refused so typos surface as warnings.
const TARGET = /^[^\s=[\],]+$/;

type Parsed = { kind: 'level'; level: LevelFilter } | { kind: 'target'; directive: TargetDirective } | { kind: 'ignored' };

function parseDirective(text: string): Parsed | undefined {
  const bareLevel = parseLevel(text);
  if (bareLevel !== undefined && !text.includes('=')) return { kind: 'level', level: bareLevel };

  const match = /^([^=[\]]*)(\[[^\]]*\])?(?:=(.*))?$/.exec(text);
  if (!match) return undefined;
  const target = (match[1] ?? '').trim();
  const selector = match[2];
  const levelText = match[3];
  const level = levelText === undefined ? 'trace' : parseLevel(levelText);
  if (level === undefined) return undefined;
  if (target === '') {
    // `[span]=debug` only narrows by span; we record no spans, so it can never match anything.
    return selector !== undefined ? { kind: 'ignored' } : undefined;
  }
  if (!TARGET.test(target)) return undefined;
  return { kind: 'target', directive: { target, level } };
}

export function parseRustLog(spec: string): LogFilter {
  let defaultLevel: LevelFilter | undefined;
  const byTarget = new Map<string, LevelFilter>();
  const invalid: string[] = [];
  for (const raw of spec.split(',')) {
    const text = raw.trim();
    if (text === '') continue;
    const parsed = parseDirective(text);
    if (parsed === undefined) invalid.push(text);
    else if (parsed.kind === 'level') defaultLevel = parsed.level;
    else if (parsed.kind === 'target') byTarget.set(parsed.directive.target, parsed.directive.level);
  }
  const directives = [...byTarget].map(([target, level]) => ({ target, level }));
  directives.sort((a, b) => b.target.length - a.target.length);
  return { defaultLevel, directives, invalid };
}

/** The most verbose level enabled for `target`: longest matching prefix, else the bare level, else `error`. */
export function levelFor(filter: LogFilter, target: string): LevelFilter {
  for (const directive of filter.directives) {
    if (target.startsWith(directive.target)) return directive.level;
  }
  return filter.defaultLevel ?? 'error';
}
