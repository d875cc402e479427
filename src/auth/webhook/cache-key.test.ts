import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { decisionCacheKey } from './cache-key.ts';

test('the key is webhook:<name>: and a hex SHA-256', () => {
  assert.match(decisionCacheKey('opa', [['X-Registry-Action', 'get-blob']]), /^webhook:opa:[0-9a-f]{64}$/);
});

test('header order and name case do not matter; names and values are sorted before hashing', () => {
  const a = decisionCacheKey('opa', [['X-Registry-Certificate-O', 'Ops'], ['X-Registry-Action', 'get-blob'], ['X-Registry-Certificate-O', 'Platform']]);
  const b = decisionCacheKey('opa', [['x-registry-action', 'get-blob'], ['X-Registry-Certificate-O', 'Platform'], ['X-REGISTRY-CERTIFICATE-O', 'Ops']]);
  assert.equal(a, b);
});

test('the hash is over length-prefixed names and values', () => {
  const length = (n: number) => {
    const buffer = Buffer.alloc(8);
    buffer.writeBigUInt64BE(BigInt(n));
    return buffer;
  };
  const expected = createHash('sha256')
    .update(Buffer.concat([length(1), Buffer.from('a'), length(2), Buffer.from('xy'), length(1), Buffer.from('b'), length(0)]))
    .digest('hex');
  assert.equal(decisionCacheKey('w', [['B', ''], ['A', 'xy']]), `webhook:w:${expected}`);
});

test('any difference in the forwarded context, or the webhook, gives another key', () => {
  const base: Array<[string, string]> = [['X-Registry-Action', 'get-blob'], ['x-tenant', 'a']];
  const keys = new Set([
    decisionCacheKey('opa', base),
    decisionCacheKey('other', base),
    decisionCacheKey('opa', [['X-Registry-Action', 'get-blob'], ['x-tenant', 'b']]),
    decisionCacheKey('opa', [['X-Registry-Action', 'get-blob']]),
    // Without length prefixes these two would concatenate to the same bytes.
    decisionCacheKey('opa', [['ab', 'c']]),
    decisionCacheKey('opa', [['a', 'bc']]),
  ]);
  assert.equal(keys.size, 6);
});
