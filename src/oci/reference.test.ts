import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256, sha512 } from '../../test/support/oci.ts';
import { parseReference, referenceString } from './reference.ts';

test('a reference containing a colon is a digest, otherwise a tag', () => {
  for (const digest of [sha256('x'), sha512('x')]) {
    const reference = parseReference(digest);
    assert.deepEqual(reference, { kind: 'digest', digest });
    assert.equal(referenceString(reference!), digest);
  }
  const tag = parseReference('v1.2');
  assert.deepEqual(tag, { kind: 'tag', tag: 'v1.2' });
  assert.equal(referenceString(tag!), 'v1.2');
});

test('an empty reference, a colon that is not a digest, or a bad tag is invalid', () => {
  const invalid = ['', 'foo:bar', 'latest:', `sha256:${'A'.repeat(64)}`, `md5:${'0'.repeat(32)}`, '.x', 'a'.repeat(129), 'a/b'];
  for (const value of invalid) assert.equal(parseReference(value), undefined, JSON.stringify(value));
});
