import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from './duration.ts';

const SECOND = 1000;

test('examples from the CLI reference', () => {
  assert.equal(parseDuration('1h'), 3600 * SECOND);
  assert.equal(parseDuration('30m'), 30 * 60 * SECOND);
  assert.equal(parseDuration('2d'), 2 * 86_400 * SECOND);
  assert.equal(parseDuration('24h'), 86_400 * SECOND);
  assert.equal(parseDuration('1s'), SECOND);
});

test('groups are summed, with blanks between and inside them', () => {
  assert.equal(parseDuration('1h30m'), 5400 * SECOND);
  assert.equal(parseDuration('1h 30m'), 5400 * SECOND);
  assert.equal(parseDuration('1 h 30 m'), 5400 * SECOND);
  assert.equal(parseDuration(' 2m 5s '), 125 * SECOND);
});

test('every unit of the table', () => {
  const cases: Array<[string, number]> = [
    ['1ns', 1e-6], ['1nsec', 1e-6], ['1nanos', 1e-6],
    ['1us', 1e-3], ['1usec', 1e-3], ['1µs', 1e-3],
    ['1ms', 1], ['1msec', 1], ['1millis', 1],
    ['1sec', SECOND], ['1secs', SECOND], ['1second', SECOND], ['1seconds', SECOND],
    ['1min', 60 * SECOND], ['1mins', 60 * SECOND], ['1minute', 60 * SECOND], ['1minutes', 60 * SECOND],
    ['1hr', 3600 * SECOND], ['1hrs', 3600 * SECOND], ['1hour', 3600 * SECOND], ['1hours', 3600 * SECOND],
    ['1day', 86_400 * SECOND], ['1days', 86_400 * SECOND],
    ['1w', 604_800 * SECOND], ['1wk', 604_800 * SECOND], ['1wks', 604_800 * SECOND], ['1week', 604_800 * SECOND], ['1weeks', 604_800 * SECOND],
    ['1M', 2_630_016 * SECOND], ['1month', 2_630_016 * SECOND], ['1months', 2_630_016 * SECOND],
    ['1y', 31_557_600 * SECOND], ['1yr', 31_557_600 * SECOND], ['1yrs', 31_557_600 * SECOND], ['1year', 31_557_600 * SECOND], ['1years', 31_557_600 * SECOND],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test('units are case-sensitive: m is minutes, M is months', () => {
  assert.equal(parseDuration('1m'), 60 * SECOND);
  assert.equal(parseDuration('1M'), 2_630_016 * SECOND);
  assert.throws(() => parseDuration('1H'), /unknown unit 'H'/);
});

test('"0" alone is zero', () => {
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('0s'), 0);
});

test('malformed durations are rejected', () => {
  assert.throws(() => parseDuration('10'), /expected a unit/);
  assert.throws(() => parseDuration('1.5h'), /expected a unit/);
  assert.throws(() => parseDuration(''), /empty/);
  assert.throws(() => parseDuration('h'), /invalid duration 'h'/);
  assert.throws(() => parseDuration('-1h'), /invalid duration/);
  assert.throws(() => parseDuration('5 parsecs'), /unknown unit 'parsecs'/);
  assert.throws(() => parseDuration('1h 30'), /expected a unit/);
  assert.throws(() => parseDuration('1h,30m'), /invalid duration/);
});

test('overflow is an error, not a wrapped or rounded value', () => {
  assert.throws(() => parseDuration('99999999999999999999y'), /too large/);
  assert.throws(() => parseDuration('300000y'), /too large/);
  assert.equal(parseDuration('200000y'), 200_000 * 31_557_600 * SECOND);
});
