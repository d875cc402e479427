// Strictly typed reads from one parsed TOML table. Every read marks its key as known, so whatever
// is left at `finish()` is reported as unknown; every failure names the dotted key path.
import { TomlDate } from 'smol-toml';
import { parseSize, SizeError } from './size.ts';

/** A validation failure; the message already names the key path (and the value unless secret). */
export class ConfigValueError extends Error {}

export interface ValidationContext {
  readonly unknownKeys: string[];
  readonly warnings: string[];
}

export type TomlTableValue = Record<string, unknown>;

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

function formatKey(key: string, quoted: boolean): string {
  return quoted || !BARE_KEY.test(key) ? JSON.stringify(key) : key;
}

export function isTable(value: unknown): value is TomlTableValue {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof TomlDate) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === null || prototype === Object.prototype;
}

/** How a value is named in type errors; secrets are named by type only. */
function describe(value: unknown, secret: boolean): string {
  const shown = (kind: string, text: string) => (secret ? `a${/^[aeiou]/.test(kind) ? 'n' : ''} ${kind}` : `${kind} ${text}`);
  if (typeof value === 'string') return shown('string', JSON.stringify(value));
  if (typeof value === 'bigint') return shown('integer', String(value));
  if (typeof value === 'number') return shown('float', String(value));
  if (typeof value === 'boolean') return shown('boolean', String(value));
  if (value instanceof TomlDate) return shown('datetime', value.toISOString());
  if (Array.isArray(value)) return 'an array';
  if (isTable(value)) return 'a table';
  return typeof value;
}

export interface IntegerRange {
  min?: number;
  max?: number;
}

export interface StringOptions {
  secret?: boolean;
}

export class TableReader {
  readonly path: string;
  readonly #table: TomlTableValue;
  readonly #context: ValidationContext;
  readonly #seen = new Set<string>();

  constructor(table: TomlTableValue, path: string, context: ValidationContext) {
    this.#table = table;
    this.path = path;
    this.#context = context;
  }

  get context(): ValidationContext {
    return this.#context;
  }

  keys(): string[] {
    return Object.keys(this.#table);
  }

  has(key: string): boolean {
    return Object.hasOwn(this.#table, key);
  }

  /** Dotted path of a key below this table; `quoted` for map keys such as repository names. */
  pathOf(key: string, quoted = false): string {
    const formatted = formatKey(key, quoted);
    return this.path === '' ? formatted : `${this.path}.${formatted}`;
  }

  /** `<path>: <detail>` */
  fail(key: string, detail: string): never {
    throw new ConfigValueError(`${this.pathOf(key)}: ${detail}`);
  }

  missing(key: string): never {
    throw new ConfigValueError(this.path === '' ? `missing field '${key}'` : `${this.path}: missing field '${key}'`);
  }

  /** The value as parsed, marking the key known (for keys whose type decides how they are read). */
  raw(key: string): unknown {
    this.#seen.add(key);
    return this.has(key) ? this.#table[key] : undefined;
  }

  #typed<T>(key: string, expected: string, accept: (value: unknown) => value is T, options: StringOptions = {}): T | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (!accept(value)) this.fail(key, `invalid type: expected ${expected}, found ${describe(value, options.secret ?? false)}`);
    return value;
  }

  string(key: string, options: StringOptions = {}): string | undefined {
    return this.#typed(key, 'a string', (value): value is string => typeof value === 'string', options);
  }

  requiredString(key: string, options: StringOptions = {}): string {
    return this.string(key, options) ?? this.missing(key);
  }

  bool(key: string): boolean | undefined {
    return this.#typed(key, 'a boolean', (value): value is boolean => typeof value === 'boolean');
  }

  integer(key: string, range: IntegerRange = {}): number | undefined {
    const value = this.#typed(key, 'an integer', (v): v is bigint => typeof v === 'bigint');
    if (value === undefined) return undefined;
    const { min, max } = range;
    const below = min !== undefined && value < BigInt(min);
    const above = max !== undefined && value > BigInt(max);
    if (below || above) {
      const path = this.pathOf(key);
      if (min !== undefined && max !== undefined) throw new ConfigValueError(`${path} must be between ${min} and ${max}, got ${value}`);
      if (min === 1) throw new ConfigValueError(`${path} must be > 0, got ${value}`);
      if (min === 0) throw new ConfigValueError(`${path} must not be negative, got ${value}`);
      if (min !== undefined) throw new ConfigValueError(`${path} must be at least ${min}, got ${value}`);
      throw new ConfigValueError(`${path} must be at most ${max}, got ${value}`);
    }
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new ConfigValueError(`${this.pathOf(key)} is out of range, got ${value}`);
    }
    return Number(value);
  }

  /** Floats accept integers (TOML `1` for `1.0`). */
  float(key: string): number | undefined {
    const value = this.#typed(key, 'a float', (v): v is number | bigint => typeof v === 'number' || typeof v === 'bigint');
    return value === undefined ? undefined : Number(value);
  }

  /** Integer bytes or a size string (`size.ts`); the only string-to-number coercion allowed. */
  size(key: string): number | undefined {
    const value = this.#typed(key, 'a size (integer or string such as "5MiB")', (v): v is string | bigint => typeof v === 'string' || typeof v === 'bigint');
    if (value === undefined) return undefined;
    try {
      return parseSize(value);
    } catch (error) {
      if (error instanceof SizeError) this.fail(key, error.message);
      throw error;
    }
  }

  stringArray(key: string): string[] | undefined {
    const value = this.#typed(key, 'an array of strings', (v): v is unknown[] => Array.isArray(v));
    if (value === undefined) return undefined;
    value.forEach((item, index) => {
      if (typeof item !== 'string') {
        throw new ConfigValueError(`${this.pathOf(key)}[${index}]: invalid type: expected a string, found ${describe(item, false)}`);
      }
    });
    return value as string[];
  }

  table(key: string, quoted = false): TableReader | undefined {
    const value = this.#typed(key, 'a table', isTable);
    return value === undefined ? undefined : new TableReader(value, this.pathOf(key, quoted), this.#context);
  }

  /** A table whose keys are names (`[repository."<name>"]`, `[auth.webhook.<name>]`): each value must be a table. */
  namedTables(key: string): Array<[string, TableReader]> {
    const container = this.table(key);
    if (container === undefined) return [];
    return container.keys().map((name) => [name, container.table(name, true)!]);
  }

  tableArray(key: string): TableReader[] | undefined {
    const value = this.#typed(key, 'an array of tables', (v): v is unknown[] => Array.isArray(v));
    if (value === undefined) return undefined;
    return value.map((item, index) => {
      const path = `${this.pathOf(key)}[${index}]`;
      if (!isTable(item)) throw new ConfigValueError(`${path}: invalid type: expected a table, found ${describe(item, false)}`);
      return new TableReader(item, path, this.#context);
    });
  }

  /** Records keys nobody read as unknown (they are ignored, and listed in one warning). */
  finish(): void {
    for (const key of this.keys()) if (!this.#seen.has(key)) this.#context.unknownKeys.push(this.pathOf(key));
  }

  warn(message: string): void {
    this.#context.warnings.push(message);
  }
}
