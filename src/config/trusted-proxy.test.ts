import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrustedProxy } from './trusted-proxy.ts';

test('addresses and CIDR blocks of both families', () => {
  assert.deepEqual(parseTrustedProxy('10.0.0.0/8'), { text: '10.0.0.0/8', address: '10.0.0.0', family: 4, prefixLength: 8 });
  assert.deepEqual(parseTrustedProxy('192.0.2.1'), { text: '192.0.2.1', address: '192.0.2.1', family: 4, prefixLength: 32 });
  assert.deepEqual(parseTrustedProxy('fd00::/8'), { text: 'fd00::/8', address: 'fd00::', family: 6, prefixLength: 8 });
  assert.equal(parseTrustedProxy('::1').prefixLength, 128);
  assert.equal(parseTrustedProxy('0.0.0.0/0').prefixLength, 0);
  assert.equal(parseTrustedProxy('2001:db8::/128').prefixLength, 128);
});

test('bad prefixes and host names are rejected naming the entry', () => {
  for (const bad of ['10.0.0.0/33', 'proxy.local', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/8/8', '::/129', '10.0.0.256', '', '10.0.0.0/ 8']) {
    assert.throws(() => parseTrustedProxy(bad), { message: `invalid trusted proxy '${bad}'` }, bad);
  }
});
