import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSize } from './size.ts';

test('SI and IEC unit strings, with and without spaces and fractions', () => {
  const cases: Array<[string, number]> = [
    ['5MiB', 5_242_880],
    ['50MiB', 52_428_800],
    ['100GiB', 107_374_182_400],
    ['5GB', 5_000_000_000],
    ['100MB', 100_000_000],
    ['1.5KiB', 1_536],
    ['3 MB', 3_000_000],
    ['5 mb', 5_000_000],
    ['4mi', 4_194_304],
    ['7b', 7],
    ['2k', 2_000],
    ['1TB', 1e12],
    ['1PiB', 1024 ** 5],
    ['0.3KB', 300],
    ['1.0009KB', 1000],
  ];
  for (const [text, bytes] of cases) assert.equal(parseSize(text), bytes, text);
});

test('integers and all-digit strings are bytes', () => {
  assert.equal(parseSize(1048576n), 1_048_576);
  assert.equal(parseSize(1048576), 1_048_576);
  assert.equal(parseSize('1048576'), 1_048_576);
  assert.equal(parseSize(0n), 0);
});

test('malformed sizes are rejected naming the string', () => {
  for (const bad of [' 5MiB', '5MiB ', '-1', 'MiB', '5XB', '5 5MiB', '', '.5MiB', '5.MiB', '1e3', '5 M iB']) {
    assert.throws(() => parseSize(bad), (error: Error) => error.message.includes(`'${bad}'`), bad);
  }
  assert.throws(() => parseSize(-1n), /must not be negative/);
  assert.throws(() => parseSize(1.5), /not an integer/);
});

test('sizes above 2^53-1 bytes are rejected rather than rounded', () => {
  assert.equal(parseSize(String(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER);
  assert.throws(() => parseSize('9007199254740992'), /too large/);
  assert.throws(() => parseSize('10PB'), /too large/);
  assert.throws(() => parseSize(2n ** 60n), /too large/);
});
