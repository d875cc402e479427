// `metadata_store.<fs|s3>.lock_strategy` (docs/configuration.md). Only the document is checked here; connecting
// to Redis or probing S3 conditional writes happens when the store is built.
import { ConfigValueError, type TableReader } from './table-reader.ts';
import type { LockStrategy, RedisLockConfig, S3LockConfig } from './types.ts';

function readRedisLock(lock: TableReader): RedisLockConfig {
  const config: RedisLockConfig = {
    kind: 'redis',
    url: lock.requiredString('url', { secret: true }),
    ttlSecs: lock.integer('ttl', { min: 1 }) ?? lock.missing('ttl'),
    keyPrefix: lock.string('key_prefix') ?? '',
    maxRetries: lock.integer('max_retries', { min: 0 }) ?? 100,
    retryDelayMs: lock.integer('retry_delay_ms', { min: 0 }) ?? 10,
  };
  lock.finish();
  return config;
}

function readS3Lock(lock: TableReader): S3LockConfig {
  const ttlSecs = lock.integer('ttl_secs', { min: 9, max: 3600 }) ?? 30;
  const maxHoldSecs = lock.integer('max_hold_secs', { min: 10 }) ?? 300;
  if (maxHoldSecs < ttlSecs) throw new ConfigValueError(`${lock.pathOf('max_hold_secs')} must be at least ttl_secs (${ttlSecs}), got ${maxHoldSecs}`);
  const config: S3LockConfig = {
    kind: 's3',
    ttlSecs,
    maxRetries: lock.integer('max_retries', { min: 0 }) ?? 100,
    retryDelayMs: lock.integer('retry_delay_ms', { min: 1 }) ?? 50,
    maxHoldSecs,
    operationTimeoutSecs: lock.integer('operation_timeout_secs', { min: 1 }) ?? 15,
    operationAttemptTimeoutSecs: lock.integer('operation_attempt_timeout_secs', { min: 1 }) ?? 4,
    maxAttempts: lock.integer('max_attempts', { min: 1 }) ?? 2,
  };
  lock.finish();
  return config;
}

/** Reads `lock_strategy` (and the deprecated `redis`) of a metadata store table. */
export function readLockStrategy(store: TableReader, backend: 'fs' | 's3'): LockStrategy {
  const hasStrategy = store.has('lock_strategy');
  const legacy = store.table('redis');
  if (legacy !== undefined) {
    if (hasStrategy) throw new ConfigValueError(`${store.path}: cannot set both 'lock_strategy' and 'redis'; use lock_strategy.redis instead`);
    store.warn(`${store.pathOf('redis')} is deprecated; use ${store.pathOf('lock_strategy')}.redis`);
    return readRedisLock(legacy);
  }
  const value = store.raw('lock_strategy');
  if (value === undefined || value === 'memory') return { kind: 'memory' };
  if (typeof value === 'string') {
    store.fail('lock_strategy', `expected "memory" or a [lock_strategy.redis] / [lock_strategy.s3] table, got string ${JSON.stringify(value)}`);
  }
  const strategy = store.table('lock_strategy')!;
  const kinds = strategy.keys();
  if (kinds.length !== 1 || (kinds[0] !== 'redis' && kinds[0] !== 's3')) {
    throw new ConfigValueError(`${strategy.path}: expected exactly one of 'redis' or 's3', got ${kinds.length === 0 ? 'none' : kinds.map((k) => `'${k}'`).join(', ')}`);
  }
  if (kinds[0] === 's3') {
    if (backend === 'fs') throw new ConfigValueError(`${strategy.pathOf('s3')}: S3 lock strategy is not supported for filesystem metadata store`);
    return readS3Lock(strategy.table('s3')!);
  }
  return readRedisLock(strategy.table('redis')!);
}
