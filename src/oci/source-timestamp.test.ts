import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatMicros, millisOf, parseSourceTimestamp } from './source-timestamp.ts';

test('RFC 3339 with an offset is a source timestamp, kept to the microsecond', () => {
  const utc = parseSourceTimestamp('2026-03-02T09:14:07.512348Z');
  assert.deepEqual(utc, { micros: Date.UTC(2026, 2, 2, 9, 14, 7) * 1000 + 512348 });
  assert.equal(formatMicros(utc!.micros), '2026-03-02T09:14:07.512348Z');
  assert.equal(millisOf(utc!), Date.UTC(2026, 2, 2, 9, 14, 7, 512));
  assert.deepEqual(parseSourceTimestamp('2026-03-02T10:14:07.512348+01:00'), utc);
  assert.deepEqual(parseSourceTimestamp('2026-03-02t04:14:07.512348-05:00'), utc);
  assert.equal(parseSourceTimestamp('2026-03-02T09:14:07Z')!.micros, Date.UTC(2026, 2, 2, 9, 14, 7) * 1000);
  assert.equal(parseSourceTimestamp('2026-03-02T09:14:07.5123489999Z')!.micros % 1_000_000, 512348, 'digits past microseconds are dropped');
});

test('anything else is no source timestamp: an ordinary write', () => {
  for (const text of [
    '2000-01-01T00:00:00', // no offset: local time is not a source timestamp
    '2000-01-01 00:00:00Z',
    '2000-01-01',
    'garbage',
    '',
    '2026-02-30T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T00:00:00+24:00',
    '1969-12-31T23:59:59Z',
    '2026-01-01T00:00:00.Z',
  ]) {
    assert.equal(parseSourceTimestamp(text), undefined, text);
  }
});
