// `[blob_store.s3]` and `[metadata_store.s3]` (docs/configuration.md): parsed once, here, into `S3Settings` with
// every default filled, so the storage backend only ever sees typed values. The part-size limits are S3's own
// and are checked at load, naming the key, rather than when the client is built.
import { MAX_PART_SIZE, MIN_PART_SIZE } from '../storage/s3/part-limits.ts';
import { ConfigValueError, type TableReader } from './table-reader.ts';
import type { S3Capabilities, S3Settings } from './types.ts';

/** Every optional key of an S3 table at its default. */
export const S3_DEFAULTS = {
  keyPrefix: '',
  multipartPartSize: 50 * 1024 * 1024,
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
  capabilities: undefined,
} as const satisfies Omit<S3Settings, 'endpoint' | 'bucket' | 'region' | 'accessKeyId' | 'secretKey'>;

/** `[metadata_store.s3]` only: how long resolved links stay in the `[cache]` backend (0 = off). */
export const DEFAULT_LINK_CACHE_TTL_SECS = 30;
export const DEFAULT_ACCESS_TIME_DEBOUNCE_SECS = 60;

const SECRET_KEYS = new Set(['access_key_id', 'secret_key']);

/** A multipart part must be a legal S3 part; the message is the one documented for `multipart_part_size`. */
export function checkPartSize(bytes: number): void {
  if (bytes < MIN_PART_SIZE) throw new ConfigValueError('Multipart part size must be at least 5MiB');
  if (bytes > MAX_PART_SIZE) throw new ConfigValueError('Multipart part size must be at most 5GiB');
}

/** A ranged UploadPartCopy part must itself be a legal part. */
export function checkCopyChunkSize(bytes: number, key = 'multipart_copy_chunk_size'): void {
  if (bytes < MIN_PART_SIZE || bytes > MAX_PART_SIZE) {
    throw new ConfigValueError(`${key}: must be between 5MiB and 5GiB, got ${bytes} bytes`);
  }
}

function requiredNonEmpty(s3: TableReader, key: string): string {
  const value = s3.requiredString(key, { secret: SECRET_KEYS.has(key) });
  if (value === '') throw new ConfigValueError(`${s3.pathOf(key)} must not be empty`);
  return value;
}

function readPartSize(s3: TableReader): number {
  const bytes = s3.size('multipart_part_size') ?? S3_DEFAULTS.multipartPartSize;
  try {
    checkPartSize(bytes);
  } catch (error) {
    if (error instanceof ConfigValueError) s3.fail('multipart_part_size', `${error.message}, got ${bytes} bytes`);
    throw error;
  }
  return bytes;
}

function readCapabilities(s3: TableReader): S3Capabilities | undefined {
  const table = s3.table('capabilities');
  if (table === undefined) return undefined;
  const flag = (key: string) => table.bool(key) ?? table.missing(key);
  const capabilities = { putIfNoneMatch: flag('put_if_none_match'), putIfMatch: flag('put_if_match'), deleteIfMatch: flag('delete_if_match') };
  table.finish();
  return capabilities;
}

/** The connection and tuning keys of one S3 table; the caller reads any other keys of it and finishes it. */
export function readS3Settings(s3: TableReader): S3Settings {
  const accessKeyId = requiredNonEmpty(s3, 'access_key_id');
  const secretKey = requiredNonEmpty(s3, 'secret_key');
  const endpoint = requiredNonEmpty(s3, 'endpoint');
  if (!URL.canParse(endpoint) || !['http:', 'https:'].includes(new URL(endpoint).protocol)) {
    s3.fail('endpoint', `expected an http(s) URL, got '${endpoint}'`);
  }
  const settings: S3Settings = {
    endpoint,
    bucket: requiredNonEmpty(s3, 'bucket'),
    region: requiredNonEmpty(s3, 'region'),
    accessKeyId,
    secretKey,
    keyPrefix: s3.string('key_prefix') ?? S3_DEFAULTS.keyPrefix,
    multipartPartSize: readPartSize(s3),
    multipartUniformParts: s3.bool('multipart_uniform_parts') ?? S3_DEFAULTS.multipartUniformParts,
    multipartCopyThreshold: s3.size('multipart_copy_threshold') ?? S3_DEFAULTS.multipartCopyThreshold,
    multipartCopyChunkSize: s3.size('multipart_copy_chunk_size') ?? S3_DEFAULTS.multipartCopyChunkSize,
    multipartCopyJobs: s3.integer('multipart_copy_jobs', { min: 1 }) ?? S3_DEFAULTS.multipartCopyJobs,
    maxAttempts: s3.integer('max_attempts', { min: 1 }) ?? S3_DEFAULTS.maxAttempts,
    operationTimeoutSecs: s3.integer('operation_timeout_secs', { min: 1 }) ?? S3_DEFAULTS.operationTimeoutSecs,
    operationAttemptTimeoutSecs: s3.integer('operation_attempt_timeout_secs', { min: 1 }) ?? S3_DEFAULTS.operationAttemptTimeoutSecs,
    circuitBreakerThreshold: s3.integer('circuit_breaker_threshold', { min: 1 }) ?? S3_DEFAULTS.circuitBreakerThreshold,
    circuitBreakerCooldownSecs: s3.integer('circuit_breaker_cooldown_secs', { min: 0 }) ?? S3_DEFAULTS.circuitBreakerCooldownSecs,
    presignTtlSecs: s3.integer('presign_ttl_secs', { min: 1 }) ?? S3_DEFAULTS.presignTtlSecs,
    capabilities: readCapabilities(s3),
  };
  checkCopyChunkSize(settings.multipartCopyChunkSize, s3.pathOf('multipart_copy_chunk_size'));
  return settings;
}

/**
 * The metadata store of an S3 blob store without `[metadata_store]`: the same server, bucket and prefix (and the
 * capabilities declared for that server); tuning keys of the blob store do not apply to metadata.
 */
export function inheritedS3Settings(blob: S3Settings): S3Settings {
  const { endpoint, bucket, region, accessKeyId, secretKey, keyPrefix, capabilities } = blob;
  return { ...S3_DEFAULTS, endpoint, bucket, region, accessKeyId, secretKey, keyPrefix, capabilities };
}
