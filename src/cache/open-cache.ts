import type { CacheConfig } from '../config/types.ts';
import type { Cache } from './cache.ts';
import { MemoryCache } from './memory-cache.ts';
import { RedisCache } from './redis-cache.ts';

/** The registry cache `[cache]` asks for; Redis connects on first use, so this never fails on an outage. */
export function openCache(config: CacheConfig): Cache {
  return config.kind === 'redis' ? new RedisCache(config.url, config.keyPrefix) : new MemoryCache();
}
