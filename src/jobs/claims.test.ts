import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { jobKeys } from '../registry/keys.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { acquireClaim, probeClaimMode } from './claims.ts';
import { tempStore } from './store-fixture.ts';

let store: ObjectStore;
let close: () => Promise<void>;
before(async () => ({ store, close } = await tempStore()));
after(() => close());

/**
 * The one fake of these tests: a real store whose create-if-absent never reports a conflict (it overwrites and says
 * "created"), as a backend without conditional writes would behave. Everything else goes to the real store.
 */
function neverConflicts(real: ObjectStore): ObjectStore {
  return new Proxy(real, {
    get(target, property, receiver) {
      if (property === 'createIfAbsent') return async (key: string, body: Buffer | string) => (await target.put(key, body), true);
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

test('probe: a real store is atomic and leaves nothing; one without conflicts is advisory; an I/O error throws', async () => {
  assert.equal(await probeClaimMode(store), 'atomic');
  assert.equal(await probeClaimMode(neverConflicts(store)), 'advisory');
  assert.deepEqual((await store.list('_jobs/claims')).keys, []);
  // A real I/O error: a file where the claims folder should be.
  const other = await tempStore();
  await other.store.put('_jobs/claims', 'in the way');
  await assert.rejects(probeClaimMode(other.store));
  await other.close();
});

test('atomic claims: one holder per lock key; released claims can be taken again', async () => {
  const claims = await Promise.all(Array.from({ length: 5 }, () => acquireClaim(store, 'cache.x:1', { mode: 'atomic', ttlSecs: 60 })));
  const held = claims.filter((claim) => claim !== undefined);
  assert.equal(held.length, 1);
  const record = JSON.parse((await store.get(jobKeys.claim('cache.x:1'))).toString()) as { instance: string; expires_at: string };
  assert.match(record.instance, /^[0-9a-f-]{36}$/);
  assert.ok(Math.abs(Date.parse(record.expires_at) - (Date.now() + 60_000)) < 5000);
  await held[0]!.release();
  await assert.rejects(store.get(jobKeys.claim('cache.x:1')), 'release deletes the record');
  const again = await acquireClaim(store, 'cache.x:1', { mode: 'atomic', ttlSecs: 60 });
  assert.ok(again);
  await again.release();
});

test('stale claims are taken over: expired, or unparsable and older than 2 x ttl; a fresh one is not', async () => {
  await store.put(jobKeys.claim('cache.expired'), JSON.stringify({ instance: 'gone', expires_at: new Date(Date.now() - 1000).toISOString() }));
  const expired = await acquireClaim(store, 'cache.expired', { mode: 'atomic', ttlSecs: 60 });
  assert.ok(expired, 'an expired claim is taken over');
  await expired.release();

  await store.put(jobKeys.claim('cache.fresh'), JSON.stringify({ instance: 'alive', expires_at: new Date(Date.now() + 60_000).toISOString() }));
  assert.equal(await acquireClaim(store, 'cache.fresh', { mode: 'atomic', ttlSecs: 60 }), undefined);

  await store.put(jobKeys.claim('cache.garbled'), '{not json');
  assert.equal(await acquireClaim(store, 'cache.garbled', { mode: 'atomic', ttlSecs: 60 }), undefined, 'a young unparsable record holds');
  const later = await acquireClaim(store, 'cache.garbled', { mode: 'atomic', ttlSecs: 3, now: () => Date.now() + 7000 });
  assert.ok(later, 'older than 2 x ttl, it is stale');
  await later.release();
  await store.delete(jobKeys.claim('cache.fresh'));
});

test('advisory claims (a store without conflicts): write, wait, re-read; a foreign unexpired claim loses', async () => {
  const advisory = neverConflicts(store);
  const claims = await Promise.all(Array.from({ length: 3 }, () => acquireClaim(advisory, 'cache.adv', { mode: 'advisory', ttlSecs: 60 })));
  assert.equal(claims.filter((claim) => claim !== undefined).length, 1);
  assert.equal(await acquireClaim(advisory, 'cache.adv', { mode: 'advisory', ttlSecs: 60 }), undefined);
  await claims.find((claim) => claim !== undefined)!.release();
  const next = await acquireClaim(advisory, 'cache.adv', { mode: 'advisory', ttlSecs: 60 });
  assert.ok(next);
  await next.release();
});

test('the refresher extends expires_at; deleting the record loses the claim within one refresh period', async () => {
  const claim = await acquireClaim(store, 'cache.refresh', { mode: 'atomic', ttlSecs: 3 });
  assert.ok(claim);
  const read = async () => Date.parse((JSON.parse((await store.get(jobKeys.claim('cache.refresh'))).toString()) as { expires_at: string }).expires_at);
  const first = await read();
  await new Promise((resolve) => setTimeout(resolve, 1300));
  assert.ok((await read()) > first, 'refreshed every max(1, floor(ttl/3)) s');
  await store.delete(jobKeys.claim('cache.refresh'));
  const lostAt = await new Promise<number>((resolve) => claim.signal.addEventListener('abort', () => resolve(Date.now()), { once: true }));
  assert.ok(claim.lost);
  assert.match((claim.signal.reason as Error).message, /claim record is gone/);
  await claim.release();
  assert.ok(lostAt > 0);
  await assert.rejects(store.get(jobKeys.claim('cache.refresh')), 'a lost claim writes nothing back');
});
