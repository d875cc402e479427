// JSON-lines logging in the shape the original's tracing subscriber printed, so existing log
// pipelines keep parsing it:
//   {"timestamp":"…Z","level":"INFO","fields":{"message":"…",…},"target":"angos::…"}
// Written by hand rather than through pino: pino fixes its own key order and keeps the message
// outside the nested fields object, and this shape needs neither its transports nor its workers.
import { levelFor, levelRank, parseRustLog, type Level, type LogFilter } from './rust-log-filter.ts';
import { encodeFields } from './log-fields.ts';
import { currentTimestamp } from './log-timestamp.ts';

export type { Level } from './rust-log-filter.ts';

export interface Logger {
  error(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
  trace(message: string, fields?: Record<string, unknown>): void;
  enabled(level: Level): boolean;
}

// An unset RUST_LOG means `info`, not the original's `error`: a server that prints nothing on start-up is
// confusing (docs/operations.md, "Logs").
const DEFAULT_FILTER: LogFilter = { defaultLevel: 'info', directives: [], invalid: [] };

let activeFilter = DEFAULT_FILTER;
// Loggers cache their resolved rank; bumping the generation makes each re-resolve once.
let generation = 0;

const LEVEL_NAMES: Record<Level, string> = { error: 'ERROR', warn: 'WARN', info: 'INFO', debug: 'DEBUG', trace: 'TRACE' };

function write(level: Level, target: string, message: string, fields: Record<string, unknown> | undefined): void {
  const line =
    `{"timestamp":"${currentTimestamp()}","level":"${LEVEL_NAMES[level]}","fields":{"message":${JSON.stringify(message)}` +
    `${encodeFields(fields)}},"target":${JSON.stringify(target)}}\n`;
  process.stdout.write(line);
}

class TargetLogger implements Logger {
  readonly #target: string;
  #generation = -1;
  #rank = 0;

  constructor(target: string) {
    this.#target = target;
  }

  enabled(level: Level): boolean {
    if (this.#generation !== generation) {
      this.#rank = levelRank(levelFor(activeFilter, this.#target));
      this.#generation = generation;
    }
    return levelRank(level) <= this.#rank;
  }

  error(message: string, fields?: Record<string, unknown>): void {
    if (this.enabled('error')) write('error', this.#target, message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    if (this.enabled('warn')) write('warn', this.#target, message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    if (this.enabled('info')) write('info', this.#target, message, fields);
  }
  debug(message: string, fields?: Record<string, unknown>): void {
    if (this.enabled('debug')) write('debug', this.#target, message, fields);
  }
  trace(message: string, fields?: Record<string, unknown>): void {
    if (this.enabled('trace')) write('trace', this.#target, message, fields);
  }
}

/** A logger for one target (e.g. `angos::registry::upload`); cheap enough for module top level. */
export function logger(target: string): Logger {
  return new TargetLogger(target);
}

/**
 * Applies a `RUST_LOG` filter; called once at start-up. Unset or blank keeps the `info` default.
 * Invalid directives are skipped with one plain warning on stderr, since logging may be what they broke.
 */
export function initLogging(filter?: string): void {
  const spec = filter?.trim() ?? '';
  if (spec === '') {
    activeFilter = DEFAULT_FILTER;
  } else {
    activeFilter = parseRustLog(spec);
    if (activeFilter.invalid.length > 0) {
      process.stderr.write(`warning: ignoring invalid RUST_LOG directives: ${activeFilter.invalid.map((d) => `'${d}'`).join(', ')}\n`);
    }
  }
  generation += 1;
  // A closed stdout (`angos server | head`) must not turn every later log call into a crash.
  if (process.stdout.listenerCount('error') === 0) process.stdout.on('error', () => {});
}
