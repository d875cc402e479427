// `metadata_store.<fs|s3>.lock_strategy` (§3.6). Only the shape and the simple ranges are checked
// here; connecting to Redis or probing S3 conditional writes happens when the store is built.
import { ConfigValueError, type TableReader } from './table-reader.ts';
import type { LockStrategy } from './types.ts';

function checkRedisLock(lock: TableReader): void {
  lock.requiredString('url', { secret: true });
  if (lock.integer('ttl', { min: 1 }) === undefined) lock.missing('ttl');
  lock.string('key_prefix');
  lock.integer('max_retries', { min: 0 });
  lock.integer('retry_delay_ms', { min: 0 });
}

function checkS3Lock(lock: TableReader): void {
  const ttl = lock.integer('ttl_secs', { min: 9, max: 3600 }) ?? 30;
  const maxHold = lock.integer('max_hold_secs', { min: 10 }) ?? 300;
  if (maxHold < ttl) throw new ConfigValueError(`${lock.pathOf('max_hold_secs')} must be at least ttl_secs (${ttl}), got ${maxHold}`);
  lock.integer('max_retries', { min: 0 });
  lock.integer('retry_delay_ms', { min: 1 });
  lock.integer('operation_timeout_secs', { min: 1 });
  lock.integer('operation_attempt_timeout_secs', { min: 1 });
  lock.integer('max_attempts', { min: 1 });
}

export function readLockStrategy(store: TableReader, backend: 'fs' | 's3'): LockStrategy {
  const hasStrategy = store.has('lock_strategy');
  const legacy = store.lenientTable('redis');
  if (legacy !== undefined) {
    if (hasStrategy) throw new ConfigValueError(`${store.path}: cannot set both 'lock_strategy' and 'redis'; use lock_strategy.redis instead`);
    store.warn(`${store.pathOf('redis')} is deprecated; use ${store.pathOf('lock_strategy')}.redis`);
    checkRedisLock(legacy);
    return { redis: store.rawTable('redis')! };
  }
  const value = store.raw('lock_strategy');
  if (value === undefined || value === 'memory') return 'memory';
  if (typeof value === 'string') {
    store.fail('lock_strategy', `expected "memory" or a [lock_strategy.redis] / [lock_strategy.s3] table, got string ${JSON.stringify(value)}`);
  }
  const strategy = store.lenientTable('lock_strategy');
  if (strategy === undefined) return 'memory';
  const kinds = strategy.keys();
  if (kinds.length !== 1 || (kinds[0] !== 'redis' && kinds[0] !== 's3')) {
    throw new ConfigValueError(`${strategy.path}: expected exactly one of 'redis' or 's3', got ${kinds.length === 0 ? 'none' : kinds.map((k) => `'${k}'`).join(', ')}`);
  }
  if (kinds[0] === 's3') {
    if (backend === 'fs') throw new ConfigValueError(`${strategy.pathOf('s3')}: S3 lock strategy is not supported for filesystem metadata store`);
    checkS3Lock(strategy.lenientTable('s3')!);
    return { s3: strategy.rawTable('s3')! };
  }
  checkRedisLock(strategy.lenientTable('redis')!);
  return { redis: strategy.rawTable('redis')! };
}
