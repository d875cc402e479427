import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isNamespace, MAX_NAME_LENGTH, parseNamespace } from './name.ts';

test('names using every separator the grammar admits are valid', () => {
  const names = ['a', '0', 'library/nginx', 'a__b/c--d', 'a.b_c', 'a---b', 'a/b/c/d', 'x9.y-z__w/v1', 'blobs/manifests/tags'];
  for (const name of names) {
    assert.equal(isNamespace(name), true, name);
    assert.equal(parseNamespace(name), name, name);
  }
});

test('names breaking the grammar are invalid', () => {
  const names = [
    '',
    'a___b',
    '-a',
    'a-',
    '.a',
    '_a',
    'a//b',
    'a/',
    '/a',
    'a/_angos',
    'a..b',
    'a._b',
    'a_-b',
    'A',
    'Library/nginx',
    'a b',
    'a:b',
    'a@b',
    'a!b',
    'é',
    'a\n',
    'a%2Fb',
  ];
  for (const name of names) {
    assert.equal(isNamespace(name), false, JSON.stringify(name));
    assert.equal(parseNamespace(name), undefined, JSON.stringify(name));
  }
});

test('names are capped at 255 characters', () => {
  assert.equal(MAX_NAME_LENGTH, 255);
  assert.equal(isNamespace('a'.repeat(255)), true);
  assert.equal(isNamespace(`${'a'.repeat(127)}/${'b'.repeat(127)}`), true);
  assert.equal(isNamespace('a'.repeat(256)), false);
  assert.equal(isNamespace(`${'a'.repeat(127)}/${'b'.repeat(128)}`), false);
});
