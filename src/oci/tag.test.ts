import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTag, parseTag } from './tag.ts';

test('tags of up to 128 ASCII word characters, dots and dashes are valid', () => {
  const tags = ['latest', 'v1.0.0', '_x', '1', 'A', 'V1_2-3.4', 'a..--__', 'a'.repeat(128), `_${'.'.repeat(127)}`];
  for (const tag of tags) {
    assert.equal(isTag(tag), true, tag);
    assert.equal(parseTag(tag), tag, tag);
  }
});

test('tags that are too long, start with a dot or dash, or leave the alphabet are invalid', () => {
  const tags = ['', 'a'.repeat(129), '.a', '-a', 'é', 'tagé', 'ａ', 'a b', 'a/b', 'a:b', 'bad!', 'a+b', 'a\n', ' a'];
  for (const tag of tags) {
    assert.equal(isTag(tag), false, JSON.stringify(tag));
    assert.equal(parseTag(tag), undefined, JSON.stringify(tag));
  }
});
