import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256, sha512 } from '../../test/support/oci.ts';
import { digestAlgorithm, digestHex, isDigest, makeDigest, parseAlgorithm, parseDigest } from './digest.ts';
import { OciError } from './errors.ts';

const SHA256 = sha256('hello');
const SHA512 = sha512('hello');
const HEX256 = SHA256.slice('sha256:'.length);
const HEX512 = SHA512.slice('sha512:'.length);

test('sha256 and sha512 digests of real content are valid', () => {
  for (const digest of [SHA256, SHA512]) {
    assert.equal(isDigest(digest), true, digest);
    assert.equal(parseDigest(digest), digest);
  }
  assert.equal(digestAlgorithm(parseDigest(SHA256)), 'sha256');
  assert.equal(digestAlgorithm(parseDigest(SHA512)), 'sha512');
  assert.equal(digestHex(parseDigest(SHA256)), HEX256);
  assert.equal(digestHex(parseDigest(SHA512)), HEX512);
});

test('upper-case hex, wrong lengths, other algorithms and missing colons are invalid', () => {
  const invalid = [
    `sha256:${HEX256.toUpperCase()}`,
    `SHA256:${HEX256}`,
    `sha256:${HEX256.slice(1)}`,
    `sha256:${HEX256}0`,
    `sha256:${HEX512}`,
    `sha512:${HEX256}`,
    `md5:${'0'.repeat(32)}`,
    `sha384:${'0'.repeat(96)}`,
    `sha256${HEX256}`,
    `sha256-${HEX256}`,
    `sha256:${HEX256.slice(1)}g`,
    `sha256:${HEX256}\n`,
    ` sha256:${HEX256}`,
    'sha256:',
    '',
  ];
  for (const value of invalid) {
    assert.equal(isDigest(value), false, JSON.stringify(value));
    assert.throws(
      () => parseDigest(value),
      (error: unknown) => error instanceof OciError && error.code === 'DIGEST_INVALID',
      JSON.stringify(value),
    );
  }
});

test('makeDigest joins an algorithm and matching hex, and refuses hex of the wrong length', () => {
  assert.equal(makeDigest('sha256', HEX256), SHA256);
  assert.equal(makeDigest('sha512', HEX512), SHA512);
  assert.throws(() => makeDigest('sha256', HEX512));
  assert.throws(() => makeDigest('sha512', HEX256));
  assert.throws(() => makeDigest('sha256', HEX256.toUpperCase()));
});

test('only sha256 and sha512 are digest algorithms', () => {
  assert.equal(parseAlgorithm('sha256'), 'sha256');
  assert.equal(parseAlgorithm('sha512'), 'sha512');
  for (const value of ['md5', 'sha384', 'SHA256', 'sha256 ', '']) assert.equal(parseAlgorithm(value), undefined, value);
});
