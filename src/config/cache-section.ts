// `[cache]` (docs/configuration.md): per-process memory by default, or Redis shared by every replica. The Redis URL
// is only parsed here; the connection is made on first use.
import { ConfigValueError, type TableReader } from './table-reader.ts';
import type { CacheConfig } from './types.ts';

export function readCache(root: TableReader): CacheConfig {
  let key = 'cache';
  // `cache_store` is the original's older name for `cache`.
  if (root.has('cache_store')) {
    if (root.has('cache')) throw new ConfigValueError(`cannot set both 'cache_store' and 'cache'; 'cache_store' is the deprecated name of 'cache'`);
    root.warn(`'cache_store' is deprecated; rename the section to 'cache'`);
    key = 'cache_store';
  }
  const cache = root.table(key);
  if (cache === undefined) return { kind: 'memory' };
  if (cache.has('memory') && cache.has('redis')) throw new ConfigValueError(`${cache.path}: only one of 'memory' or 'redis' may be configured`);
  cache.table('memory')?.finish();
  const redis = cache.table('redis');
  cache.finish();
  if (redis === undefined) return { kind: 'memory' };
  // The URL may carry a password: errors describe it without repeating it.
  const url = redis.requiredString('url', { secret: true });
  const problem = redisUrlProblem(url);
  if (problem !== undefined) redis.fail('url', `invalid Redis URL: ${problem}`);
  const keyPrefix = redis.requiredString('key_prefix');
  redis.finish();
  return { kind: 'redis', url, keyPrefix };
}

/** Why `url` is not a Redis URL the client can connect to, or undefined when it is. */
export function redisUrlProblem(url: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'unix' || scheme === 'redis+unix') {
    const socket = unixSocketUrl(url);
    return socket === undefined ? `expected ${scheme}://[user[:password]@]/absolute/path/to/socket[?db=N]` : dbProblem(socket.db);
  }
  if (scheme !== 'redis' && scheme !== 'rediss') {
    return `expected a redis://, rediss://, unix:// or redis+unix:// URL, got ${scheme === undefined ? 'no scheme' : `scheme '${scheme}'`}`;
  }
  if (!URL.canParse(url)) return 'the URL cannot be parsed';
  const parsed = new URL(url);
  if (parsed.hostname === '') return 'the URL has no host';
  return dbProblem(parsed.pathname.length > 1 ? parsed.pathname.slice(1) : undefined);
}

/** `unix://` and `redis+unix://` split into their parts; undefined when the shape is wrong. */
export function unixSocketUrl(url: string): { userinfo: string | undefined; path: string; db: string | undefined } | undefined {
  const match = /^(?:redis\+)?unix:\/\/(?:([^@/]*)@)?(\/[^?#]*[^/?#])(?:\?([^#]*))?$/i.exec(url);
  if (!match) return undefined;
  const db = new URLSearchParams(match[3] ?? '').get('db') ?? undefined;
  return { userinfo: match[1], path: match[2]!, db };
}

function dbProblem(db: string | undefined): string | undefined {
  return db === undefined || /^\d+$/.test(db) ? undefined : `the database must be a number, got '${db}'`;
}
