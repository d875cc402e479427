import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VerificationCache } from './verification-cache.ts';

function counting(result: boolean): { check: () => Promise<boolean>; calls: () => number } {
  let calls = 0;
  return {
    check: async () => {
      calls += 1;
      return result;
    },
    calls: () => calls,
  };
}

test('a success is remembered for the TTL, then checked again', async () => {
  let now = 1_000;
  const cache = new VerificationCache({ ttlMs: 100, maxEntries: 10, now: () => now });
  const ok = counting(true);
  assert.equal(await cache.verify('alice', 'pw', 'hash', ok.check), true);
  now += 99;
  assert.equal(await cache.verify('alice', 'pw', 'hash', ok.check), true);
  assert.equal(ok.calls(), 1);
  now += 1;
  assert.equal(await cache.verify('alice', 'pw', 'hash', ok.check), true);
  assert.equal(ok.calls(), 2);
});

test('failures are never cached, and a cached success answers only the exact username, password and hash', async () => {
  const cache = new VerificationCache({ ttlMs: 60_000, maxEntries: 10 });
  const wrong = counting(false);
  assert.equal(await cache.verify('alice', 'bad', 'hash', wrong.check), false);
  assert.equal(await cache.verify('alice', 'bad', 'hash', wrong.check), false);
  assert.equal(wrong.calls(), 2);

  await cache.verify('alice', 'pw', 'hash', counting(true).check);
  for (const [user, password, hash] of [['alice', 'pw2', 'hash'], ['bob', 'pw', 'hash'], ['alice', 'pw', 'rotated-hash'], ['alice:p', 'w', 'hash']] as const) {
    const probe = counting(false);
    assert.equal(await cache.verify(user, password, hash, probe.check), false, `${user}/${password}/${hash}`);
    assert.equal(probe.calls(), 1);
  }
});

test('concurrent identical checks share one computation', async () => {
  const cache = new VerificationCache({ ttlMs: 60_000, maxEntries: 10 });
  let calls = 0;
  let release!: (value: boolean) => void;
  const check = () => {
    calls += 1;
    return new Promise<boolean>((resolve) => (release = resolve));
  };
  const both = Promise.all([cache.verify('alice', 'pw', 'h', check), cache.verify('alice', 'pw', 'h', check)]);
  release(false);
  assert.deepEqual(await both, [false, false]);
  assert.equal(calls, 1);
});

test('the cache holds at most maxEntries successes, evicting the oldest', async () => {
  const cache = new VerificationCache({ ttlMs: 60_000, maxEntries: 2 });
  for (const user of ['a', 'b', 'c']) await cache.verify(user, 'pw', 'h', counting(true).check);
  const a = counting(true);
  const c = counting(true);
  await cache.verify('a', 'pw', 'h', a.check);
  await cache.verify('c', 'pw', 'h', c.check);
  assert.equal(a.calls(), 1, 'the oldest entry was evicted');
  assert.equal(c.calls(), 0, 'a recent entry is still cached');
});
