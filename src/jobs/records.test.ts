import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jobKeys } from '../registry/keys.ts';
import { newEnvelope, parseEnvelope, parseIndex } from './records.ts';

const ID = '6f1c2a4e-8b7d-4c3e-9a2b-1d0e5f6a7b8c';

test('storage keys: 16 hex digits of not_before ms, then the id; byte order is time order', () => {
  assert.equal(jobKeys.storageKey(0x18f_0000_0000, ID), `0000018f00000000-${ID}`);
  assert.equal(jobKeys.storageKey(-5, ID), `0000000000000000-${ID}`, 'pre-1970 is 0');
  assert.deepEqual(jobKeys.parseStorageKey(`0000018f00000000-${ID}`), { notBeforeMs: 0x18f_0000_0000, id: ID });
  const earlier = jobKeys.storageKey(1_700_000_000_000, ID);
  const later = jobKeys.storageKey(1_700_000_000_001, '00000000-0000-4000-8000-000000000000');
  assert.ok(earlier < later);
  for (const bad of ['', 'abc', `0000018f0000000-${ID}`, `0000018F00000000-${ID}`, `0000018f00000000-${ID}x`, `0000018f00000000/${ID}`]) {
    assert.equal(jobKeys.parseStorageKey(bad), undefined, bad);
  }
  assert.equal(jobKeys.pending('cache', `0000018f00000000-${ID}`), `_jobs/pending/cache/0000018f00000000-${ID}.json`);
  assert.equal(jobKeys.storageKeyOf(`_jobs/failed/replication/0000018f00000000-${ID}.json`), `0000018f00000000-${ID}`);
  assert.equal(jobKeys.storageKeyOf('_jobs/pending/cache/notes.txt'), undefined);
});

test('enc escapes / \\ : * ? " < > | as uppercase %XX and nothing else', () => {
  assert.equal(jobKeys.enc('cache.library/nginx:sha256:ab'), 'cache.library%2Fnginx%3Asha256%3Aab');
  assert.equal(jobKeys.enc('a\\b*c?d"e<f>g|h'), 'a%5Cb%2Ac%3Fd%22e%3Cf%3Eg%7Ch');
  assert.equal(jobKeys.enc('plain.key-1_2@3'), 'plain.key-1_2@3');
  assert.equal(jobKeys.index('cache', 'cache.a/b:sha256:1'), '_jobs/index/cache/cache.a%2Fb%3Asha256%3A1.json');
  assert.equal(jobKeys.claim('cache.a/b:sha256:1'), '_jobs/claims/cache.a%2Fb%3Asha256%3A1.json');
});

test('enc of a lock key too long for a file name is a readable head and the hash of the whole key', () => {
  const namespace = Array.from({ length: 60 }, (_, i) => `n${i}`).join('/');
  const one = jobKeys.enc(`cache.${namespace}:sha256:${'a'.repeat(64)}`);
  const other = jobKeys.enc(`cache.${namespace}:sha256:${'b'.repeat(64)}`);
  assert.ok(Buffer.byteLength(`${one}.json`) <= 255, one);
  assert.notEqual(one, other);
  assert.ok(one.startsWith('cache.n0%2Fn1%2F'));
});


test('envelopes: lock keys must be non-empty and %-free; max_attempts stamped, a missing one takes the policy', () => {
  assert.throws(() => newEnvelope('cache', 'k', '', {}, 5, 0), /non-empty/);
  assert.throws(() => newEnvelope('cache', 'k', 'a%2F', {}, 5, 0), /no '%'/);
  const envelope = newEnvelope('cache', 'cache.fetch_blob', 'cache.a:b', { namespace: 'a' }, 3, Date.UTC(2024, 0, 1));
  assert.deepEqual(Object.keys(envelope), ['id', 'queue', 'kind', 'lock_key', 'created_at', 'attempts', 'max_attempts', 'payload']);
  assert.equal(envelope.created_at, '2024-01-01T00:00:00.000Z');
  assert.deepEqual(parseEnvelope(Buffer.from(JSON.stringify(envelope)), 9), envelope);
  const { max_attempts: _, ...legacy } = envelope;
  assert.equal(parseEnvelope(Buffer.from(JSON.stringify(legacy)), 9)?.max_attempts, 9);
  for (const bad of ['{', '[]', '{"id":"x"}', JSON.stringify({ ...envelope, queue: 'bogus' }), JSON.stringify({ ...envelope, attempts: -1 })]) {
    assert.equal(parseEnvelope(Buffer.from(bad), 5), undefined, bad);
  }
  assert.equal(parseIndex(Buffer.from('{"storage_key":"k"}')), 'k');
  assert.equal(parseIndex(Buffer.from('nope')), undefined);
});
