import { ConfigValueError } from '../../config/table-reader.ts';
import { parseSize, SizeError } from '../../config/size.ts';

const MiB = 1024 * 1024;
/** S3's smallest non-final multipart part. */
export const MIN_PART_SIZE = 5 * MiB;
/** S3's largest part. */
export const MAX_PART_SIZE = 5 * 1024 * MiB;

/** Everything an `S3ObjectStore` is built from; the TOML table is parsed into this by `parseS3Options`. */
export interface S3StoreOptions {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretKey: string;
  /** Prepended as `<prefix>/<key>`; a trailing `/` is trimmed. */
  keyPrefix?: string;
  /** Bytes per multipart part (and the most one upload write holds in memory). At least 5 MiB. */
  multipartPartSize?: number;
  maxAttempts?: number;
  operationTimeoutSecs?: number;
  operationAttemptTimeoutSecs?: number;
  circuitBreakerThreshold?: number;
  circuitBreakerCooldownSecs?: number;
  presignTtlSecs?: number;
}

export const S3_DEFAULTS = {
  keyPrefix: '',
  multipartPartSize: 50 * MiB,
  maxAttempts: 3,
  operationTimeoutSecs: 900,
  operationAttemptTimeoutSecs: 300,
  circuitBreakerThreshold: 5,
  circuitBreakerCooldownSecs: 10,
  presignTtlSecs: 1800,
} as const;

/**
 * Reads a raw `[blob_store.s3]` / `[metadata_store.s3]` table (TOML integers arrive as bigint). Keys this backend
 * does not use yet (`multipart_copy_*`, `multipart_uniform_parts`, `link_cache_ttl`, ...) are left to the config
 * layer, which already type-checks them.
 */
export function parseS3Options(table: Record<string, unknown>, path = 'blob_store.s3'): S3StoreOptions {
  const read = new Reader(table, path);
  const endpoint = read.requiredString('endpoint');
  if (!URL.canParse(endpoint) || !['http:', 'https:'].includes(new URL(endpoint).protocol)) {
    throw new ConfigValueError(`${path}.endpoint: expected an http(s) URL, got '${endpoint}'`);
  }
  const options: S3StoreOptions = {
    endpoint,
    bucket: read.requiredString('bucket'),
    region: read.requiredString('region'),
    accessKeyId: read.requiredString('access_key_id'),
    secretKey: read.requiredString('secret_key'),
    keyPrefix: read.string('key_prefix') ?? S3_DEFAULTS.keyPrefix,
    multipartPartSize: read.size('multipart_part_size') ?? S3_DEFAULTS.multipartPartSize,
    maxAttempts: read.integer('max_attempts', 1) ?? S3_DEFAULTS.maxAttempts,
    operationTimeoutSecs: read.integer('operation_timeout_secs', 1) ?? S3_DEFAULTS.operationTimeoutSecs,
    operationAttemptTimeoutSecs: read.integer('operation_attempt_timeout_secs', 1) ?? S3_DEFAULTS.operationAttemptTimeoutSecs,
    circuitBreakerThreshold: read.integer('circuit_breaker_threshold', 1) ?? S3_DEFAULTS.circuitBreakerThreshold,
    circuitBreakerCooldownSecs: read.integer('circuit_breaker_cooldown_secs', 0) ?? S3_DEFAULTS.circuitBreakerCooldownSecs,
    presignTtlSecs: read.integer('presign_ttl_secs', 1) ?? S3_DEFAULTS.presignTtlSecs,
  };
  checkPartSize(options.multipartPartSize!);
  return options;
}

/** The range check of §3.5, shared by the parser and the store's constructor. */
export function checkPartSize(bytes: number): void {
  if (bytes < MIN_PART_SIZE) throw new ConfigValueError('Multipart part size must be at least 5MiB');
  if (bytes > MAX_PART_SIZE) throw new ConfigValueError('Multipart part size must be at most 5GiB');
}

class Reader {
  readonly #table: Record<string, unknown>;
  readonly #path: string;

  constructor(table: Record<string, unknown>, path: string) {
    this.#table = table;
    this.#path = path;
  }

  #value(key: string): unknown {
    return Object.hasOwn(this.#table, key) ? this.#table[key] : undefined;
  }

  #fail(key: string, detail: string): never {
    throw new ConfigValueError(`${this.#path}.${key}: ${detail}`);
  }

  string(key: string): string | undefined {
    const value = this.#value(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') this.#fail(key, 'expected a string');
    return value;
  }

  requiredString(key: string): string {
    const value = this.string(key);
    if (value === undefined || value === '') this.#fail(key, 'is required');
    return value;
  }

  integer(key: string, min: number): number | undefined {
    const value = this.#value(key);
    if (value === undefined) return undefined;
    if ((typeof value !== 'bigint' && typeof value !== 'number') || !Number.isInteger(Number(value))) {
      this.#fail(key, 'expected an integer');
    }
    const number = Number(value);
    if (!Number.isSafeInteger(number) || number < min) this.#fail(key, `must be an integer of at least ${min}, got ${String(value)}`);
    return number;
  }

  size(key: string): number | undefined {
    const value = this.#value(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string' && typeof value !== 'bigint' && typeof value !== 'number') this.#fail(key, 'expected a size');
    try {
      return parseSize(value);
    } catch (err) {
      if (err instanceof SizeError) this.#fail(key, err.message);
      throw err;
    }
  }
}
