import type { CacheConfig } from '../config/types.ts';
import type { Cache } from './cache.ts';
import { MemoryCache } from './memory-cache.ts';

/**
 * The registry cache `[cache]` asks for; Redis connects on first use, so this never fails on an outage. The Redis
 * client library is loaded only when configured: it is a sizeable share of a server's start-up memory.
 */
export async function openCache(config: CacheConfig): Promise<Cache> {
  if (config.kind !== 'redis') return new MemoryCache();
  const { RedisCache } = await import('./redis-cache.ts');
  return new RedisCache(config.url, config.keyPrefix);
}
