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
  /** Bytes per multipart part: exact in uniform mode, a grafting unit in non-uniform mode. 5 MiB–5 GiB. */
  multipartPartSize?: number;
  /** Every non-final part exactly `multipartPartSize` (§2.4 uniform mode) instead of the memory-lean default. */
  multipartUniformParts?: boolean;
  /** Promotion copies above this size use ranged UploadPartCopy instead of one CopyObject. */
  multipartCopyThreshold?: number;
  /** Bytes per ranged UploadPartCopy, 5 MiB–5 GiB. */
  multipartCopyChunkSize?: number;
  /** Ranged UploadPartCopy calls in flight at once. */
  multipartCopyJobs?: number;
  /**
   * Declared server capabilities (`[*.s3.capabilities]`); when present they replace the start-up probe. Only
   * `putIfNoneMatch` changes behaviour: false ⇒ advisory creates.
   */
  capabilities?: S3Capabilities;
  maxAttempts?: number;
  operationTimeoutSecs?: number;
  operationAttemptTimeoutSecs?: number;
  circuitBreakerThreshold?: number;
  circuitBreakerCooldownSecs?: number;
  presignTtlSecs?: number;
}

export interface S3Capabilities {
  putIfNoneMatch: boolean;
  putIfMatch: boolean;
  deleteIfMatch: boolean;
}

export const S3_DEFAULTS = {
  keyPrefix: '',
  multipartPartSize: 50 * MiB,
  multipartUniformParts: false,
  multipartCopyThreshold: 5_000_000_000,
  multipartCopyChunkSize: 100_000_000,
  multipartCopyJobs: 4,
  maxAttempts: 3,
  operationTimeoutSecs: 900,
  operationAttemptTimeoutSecs: 300,
  circuitBreakerThreshold: 5,
  circuitBreakerCooldownSecs: 10,
  presignTtlSecs: 1800,
} as const;

/**
 * Reads a raw `[blob_store.s3]` / `[metadata_store.s3]` table (TOML integers arrive as bigint). Keys this backend
 * does not use (`link_cache_ttl`, `lock_strategy`, ...) are left to the config layer, which type-checks them.
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
    multipartUniformParts: read.bool('multipart_uniform_parts') ?? S3_DEFAULTS.multipartUniformParts,
    multipartCopyThreshold: read.size('multipart_copy_threshold') ?? S3_DEFAULTS.multipartCopyThreshold,
    multipartCopyChunkSize: read.size('multipart_copy_chunk_size') ?? S3_DEFAULTS.multipartCopyChunkSize,
    multipartCopyJobs: read.integer('multipart_copy_jobs', 1) ?? S3_DEFAULTS.multipartCopyJobs,
  };
  const capabilities = read.capabilities();
  if (capabilities !== undefined) options.capabilities = capabilities;
  checkPartSize(options.multipartPartSize!);
  checkCopyChunkSize(options.multipartCopyChunkSize!, `${path}.multipart_copy_chunk_size`);
  return options;
}

/** §3.5: a ranged UploadPartCopy part must itself be a legal part. */
export function checkCopyChunkSize(bytes: number, key = 'multipart_copy_chunk_size'): void {
  if (bytes < MIN_PART_SIZE || bytes > MAX_PART_SIZE) {
    throw new ConfigValueError(`${key}: must be between 5MiB and 5GiB, got ${bytes} bytes`);
  }
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

  bool(key: string): boolean | undefined {
    const value = this.#value(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') this.#fail(key, 'expected a boolean');
    return value;
  }

  capabilities(): S3Capabilities | undefined {
    const table = this.#value('capabilities');
    if (table === undefined) return undefined;
    if (typeof table !== 'object' || table === null) this.#fail('capabilities', 'expected a table');
    const flags = new Reader(table as Record<string, unknown>, `${this.#path}.capabilities`);
    const required = (key: string) => flags.bool(key) ?? flags.#fail(key, 'is required');
    return { putIfNoneMatch: required('put_if_none_match'), putIfMatch: required('put_if_match'), deleteIfMatch: required('delete_if_match') };
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
