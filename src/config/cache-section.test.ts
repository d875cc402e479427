import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redisUrlProblem, unixSocketUrl } from './cache-section.ts';
import { configFailure as failure, loadConfig as load } from '../../test/support/config-validation.ts';

test('memory is the default, with or without [cache.memory]', () => {
  assert.deepEqual(load('').cache, { kind: 'memory' });
  assert.deepEqual(load('[cache.memory]\n').cache, { kind: 'memory' });
});

test('[cache.redis] needs a url and a key_prefix, which may be empty', () => {
  assert.deepEqual(load('[cache.redis]\nurl = "redis://r:6379/2"\nkey_prefix = ""\n').cache, { kind: 'redis', url: 'redis://r:6379/2', keyPrefix: '' });
  assert.equal(failure('[cache.redis]\nkey_prefix = ""\n'), "cache.redis: missing field 'url'");
  assert.equal(failure('[cache.redis]\nurl = "redis://r"\n'), "cache.redis: missing field 'key_prefix'");
  assert.match(failure('[cache.memory]\n[cache.redis]\nurl = "redis://r"\nkey_prefix = ""\n'), /^cache: only one of 'memory' or 'redis'/);
});

test('the deprecated cache_store name still works, but not beside cache', () => {
  const aliased = load('[cache_store.redis]\nurl = "redis://r"\nkey_prefix = "a:"\n');
  assert.deepEqual(aliased.cache, { kind: 'redis', url: 'redis://r', keyPrefix: 'a:' });
  assert.match(aliased.warnings.join('\n'), /'cache_store' is deprecated/);
  assert.match(failure('[cache_store.memory]\n[cache.memory]\n'), /cannot set both 'cache_store' and 'cache'/);
});

test('Redis URLs of every supported scheme are accepted', () => {
  for (const url of ['redis://localhost', 'redis://:pw@r:6380/3', 'rediss://user:pw@r.example', 'unix:///run/redis.sock', 'unix://u:pw@/run/redis.sock?db=2', 'redis+unix:///run/redis.sock']) {
    assert.equal(redisUrlProblem(url), undefined, url);
  }
});

test('an unparsable Redis URL is `invalid Redis URL: …`, without echoing a password', () => {
  assert.equal(failure('[cache.redis]\nurl = "http://r"\nkey_prefix = ""\n'), "cache.redis.url: invalid Redis URL: expected a redis://, rediss://, unix:// or redis+unix:// URL, got scheme 'http'");
  assert.match(failure('[cache.redis]\nurl = "r:6379"\nkey_prefix = ""\n'), /invalid Redis URL/);
  assert.match(failure('[cache.redis]\nurl = "localhost"\nkey_prefix = ""\n'), /invalid Redis URL: .*got no scheme/);
  assert.match(failure('[cache.redis]\nurl = "redis://"\nkey_prefix = ""\n'), /invalid Redis URL: the URL has no host/);
  assert.match(failure('[cache.redis]\nurl = "unix://relative.sock"\nkey_prefix = ""\n'), /invalid Redis URL: expected unix:\/\//);
  const secret = failure('[cache.redis]\nurl = "redis://:hunter2@r/notadb"\nkey_prefix = ""\n');
  assert.match(secret, /invalid Redis URL: the database must be a number/);
  assert.ok(!secret.includes('hunter2'));
  assert.equal(failure('[cache.redis]\nurl = 6379\nkey_prefix = ""\n'), 'cache.redis.url: invalid type: expected a string, found an integer');
});

test('unix socket URLs split into user info, path and database', () => {
  assert.deepEqual(unixSocketUrl('redis+unix://u:p@/var/run/r.sock?db=4'), { userinfo: 'u:p', path: '/var/run/r.sock', db: '4' });
  assert.deepEqual(unixSocketUrl('unix:///r.sock'), { userinfo: undefined, path: '/r.sock', db: undefined });
  assert.equal(unixSocketUrl('unix:///'), undefined);
});
