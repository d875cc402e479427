import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryCache } from './memory-cache.ts';

describe('MemoryCache', () => {
  it('returns what was set until it expires', async (t) => {
    t.mock.timers.enable({ apis: ['Date'] });
    const cache = new MemoryCache();
    await cache.set('k', 'v', 2);
    assert.equal(await cache.get('k'), 'v');
    t.mock.timers.tick(1999);
    assert.equal(await cache.get('k'), 'v');
    t.mock.timers.tick(1);
    assert.equal(await cache.get('k'), undefined);
  });

  it('evicts the oldest entry beyond its bound, and deletes on request', async () => {
    const cache = new MemoryCache(2);
    await cache.set('a', '1', 60);
    await cache.set('b', '2', 60);
    await cache.set('c', '3', 60);
    assert.equal(await cache.get('a'), undefined);
    assert.equal(await cache.get('c'), '3');
    await cache.delete('c');
    assert.equal(await cache.get('c'), undefined);
  });
});
