import { test } from 'node:test';
import assert from 'node:assert/strict';
import { numericClaim, parseJson, stringifyJson } from './jwt-json.ts';

test('integer literals parse as bigint, exactly, and everything else as JSON does', () => {
  const text = '{"run":42,"neg":-7,"big":12345678901234567890,"ratio":1.5,"exp":1e3,"one":1.0,"list":[1,"2",null,true],"nested":{"n":0}}';
  assert.deepEqual(parseJson(text), {
    run: 42n, neg: -7n, big: 12345678901234567890n, ratio: 1.5, exp: 1000, one: 1, list: [1n, '2', null, true], nested: { n: 0n },
  });
});

test('stringify writes bigints as the integers they are, so a round trip keeps them', () => {
  const value = { run: 42n, big: 12345678901234567890n, ratio: 1.5, text: 'x' };
  assert.equal(stringifyJson(value), '{"run":42,"big":12345678901234567890,"ratio":1.5,"text":"x"}');
  assert.deepEqual(parseJson(stringifyJson(value)), value);
});

test('numeric claims accept bigint and finite numbers only', () => {
  assert.equal(numericClaim(10n), 10);
  assert.equal(numericClaim(10.5), 10.5);
  assert.equal(numericClaim('10'), undefined);
  assert.equal(numericClaim(null), undefined);
});
