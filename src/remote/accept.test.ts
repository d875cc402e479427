import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptQuality, forwardedAccept } from './accept.ts';

describe('forwardedAccept (spec §2.4)', () => {
  it('forwards nothing without a client Accept', () => {
    assert.deepEqual(forwardedAccept(undefined), []);
    assert.deepEqual(forwardedAccept([]), []);
    assert.deepEqual(forwardedAccept(' , ,'), []);
  });

  it('splits every header on commas, trims, drops empties and keeps parameters verbatim', () => {
    assert.deepEqual(forwardedAccept(['a/b ,, c/d;charset=utf-8', ' e/f ']), ['a/b', 'c/d;charset=utf-8', 'e/f']);
  });

  it('sorts by quality, highest first, keeping the order of equals', () => {
    const header = 'x/low;q=0.1, x/one, x/half;q=0.5, x/two;q=1.000, x/bad;q=2, x/zero;q=0, x/half2; Q = 0.5';
    assert.deepEqual(forwardedAccept(header), ['x/one', 'x/two;q=1.000', 'x/half;q=0.5', 'x/half2; Q = 0.5', 'x/low;q=0.1', 'x/bad;q=2', 'x/zero;q=0']);
  });

  it('reads q as RFC 9110 qvalues; anything malformed is 0', () => {
    for (const [item, quality] of [
      ['a/b', 1], ['a/b;q=1', 1], ['a/b;q=1.', 1], ['a/b;q=1.000', 1], ['a/b;q=0.123', 0.123], ['a/b;q=0.', 0], ['a/b;q=0', 0],
      ['a/b;q=1.001', 0], ['a/b;q=0.1234', 0], ['a/b;q=.5', 0], ['a/b;q=', 0], ['a/b;q=abc', 0], ['a/b;level=1', 1],
    ] as const) {
      assert.equal(acceptQuality(item), quality, item);
    }
  });
});
