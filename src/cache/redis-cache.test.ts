import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary, runBinary } from '../../test/support/binaries.ts';
import { freePort } from '../../test/support/free-port.ts';
import { startRedis } from '../../test/support/redis.ts';
import { RedisCache } from './redis-cache.ts';

/** Retries `attempt` until it stops throwing; recovery is asynchronous, but is asserted, never timed. */
async function eventually<T>(attempt: () => Promise<T>, what: string): Promise<T> {
  let last: unknown;
  for (let tries = 0; tries < 200; tries++) {
    try {
      return await attempt();
    } catch (err) {
      last = err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`${what} never happened: ${String(last)}`);
}

test('values live under key_prefix with the TTL asked for, and can be deleted', async (t) => {
  if (!requireBinary(t, 'redis-server', 'redis-cli')) return;
  const redis = await startRedis();
  t.after(() => redis.kill());
  const cache = new RedisCache(redis.url, 'angos:');
  t.after(() => cache.close());

  assert.equal(await cache.get('k'), undefined);
  await cache.set('k', 'allow', 60);
  assert.equal(await cache.get('k'), 'allow');
  const cli = (...args: string[]) => runBinary('redis-cli', ['-p', String(redis.port), ...args]).then((result) => result.stdout.toString().trim());
  assert.equal(await cli('GET', 'angos:k'), 'allow');
  const ttl = Number(await cli('TTL', 'angos:k'));
  assert.ok(ttl > 0 && ttl <= 60, `TTL ${ttl}`);
  // Another process with the same prefix sees the value: the cache is shared, not per process.
  const other = new RedisCache(redis.url, 'angos:');
  t.after(() => other.close());
  assert.equal(await other.get('k'), 'allow');
  const unprefixed = new RedisCache(redis.url, '');
  t.after(() => unprefixed.close());
  assert.equal(await unprefixed.get('k'), undefined);
  assert.equal(await unprefixed.get('angos:k'), 'allow');
  await cache.delete('k');
  assert.equal(await other.get('k'), undefined);
});

test('a Redis that is down rejects reads and writes; the same cache works again once Redis is back', async (t) => {
  if (!requireBinary(t, 'redis-server')) return;
  const port = await freePort();
  const cache = new RedisCache(`redis://127.0.0.1:${port}`, 'p:', { connectTimeoutMs: 500 });
  t.after(() => cache.close());
  // Never reached yet: the first use fails instead of waiting for Redis to appear.
  await assert.rejects(cache.get('k'), /Redis is unavailable|ECONNREFUSED/);
  await assert.rejects(cache.set('k', 'v', 10));

  let redis = await startRedis({ port });
  t.after(() => redis.kill());
  await eventually(() => cache.set('k', 'v', 10), 'a write after Redis started');
  assert.equal(await cache.get('k'), 'v');

  await redis.kill();
  await eventually(() => assert.rejects(cache.get('k')), 'a failed read while Redis is down');
  await assert.rejects(cache.set('k', 'w', 10));

  redis = await startRedis({ port });
  // A fresh Redis without persistence starts empty: the read succeeds as a miss, then writes land again.
  assert.equal(await eventually(() => cache.get('k'), 'a read after Redis returned'), undefined);
  await cache.set('k', 'w', 10);
  assert.equal(await cache.get('k'), 'w');
});

test('a unix socket URL, also spelled redis+unix://, reaches the server', async (t) => {
  if (!requireBinary(t, 'redis-server')) return;
  const dir = await mkdtemp(join(tmpdir(), 'angos-redis-sock-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const socket = join(dir, 'redis.sock');
  const redis = await startRedis({ unixSocket: socket });
  t.after(() => redis.kill());
  const plain = new RedisCache(`unix://${socket}`, '');
  const spelled = new RedisCache(`redis+unix://${socket}?db=0`, '');
  t.after(() => Promise.all([plain.close(), spelled.close()]));
  await plain.set('s', 'via-unix', 10);
  assert.equal(await spelled.get('s'), 'via-unix');
});
