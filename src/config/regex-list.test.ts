import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRegex } from './regex-list.ts';

test('patterns search unanchored', () => {
  assert.ok(compileRegex('latest').test('latest-rc'));
  assert.ok(compileRegex('^v\\d+$').test('v12'));
  assert.ok(!compileRegex('^latest$').test('latest-rc'));
  assert.ok(compileRegex('^apps/prod/').test('apps/prod/web'));
});

test('invalid patterns are rejected quoting the pattern', () => {
  assert.throws(() => compileRegex('[bad'), /invalid regex '\[bad'/);
  assert.throws(() => compileRegex('a{2,1}'), /invalid regex 'a\{2,1\}'/);
});

test('look-around and back-references are refused, lookalikes are not', () => {
  for (const pattern of ['foo(?=bar)', '(?!x)y', '(?<=a)b', '(?<!a)b', '(a)\\1', '(?<n>a)\\k<n>']) {
    assert.throws(() => compileRegex(pattern), /not supported/, pattern);
  }
  for (const pattern of ['\\(?=x', '[(?=]', '(?<name>a)', '(?:a|b)', 'a\\\\1']) {
    assert.doesNotThrow(() => compileRegex(pattern), pattern);
  }
});

test("RE2's leading (?i) makes the whole pattern case-insensitive; elsewhere it stays an error", () => {
  const caseless = compileRegex('(?i)^prod');
  assert.ok(caseless.test('PRODUCTION') && caseless.flags.includes('i'));
  assert.ok(!compileRegex('^prod').test('PRODUCTION'));
  assert.throws(() => compileRegex('(?i)(?=x)'), /invalid regex '\(\?i\)\(\?=x\)': look-around is not supported/);
});
