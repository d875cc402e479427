import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CODE_STATUS } from '../http/errors.ts';
import { OciError, UnsatisfiableRangeError } from './errors.ts';
import { parseContentLength, parseRangeHeader, parseUploadContentRange, resolveRange, type ByteSpan } from './range.ts';

/** What a blob GET serves for a `Range` header: a span (206), `'whole'` (200), or `416`. */
function serve(header: string | undefined, size: number): ByteSpan | 'whole' | 416 {
  try {
    return resolveRange(parseRangeHeader(header), size) ?? 'whole';
  } catch (error) {
    assert.ok(error instanceof OciError, `unexpected ${String(error)}`);
    assert.equal(error.code, 'SIZE_INVALID');
    assert.ok(error instanceof UnsatisfiableRangeError && error.size === size, 'names the size');
    return 416;
  }
}

function expectError(run: () => unknown, code: string, status: number, label: string): void {
  assert.throws(run, (error: unknown) => error instanceof OciError && error.code === code && CODE_STATUS[error.code] === status, label);
}

test('ranges on a 10-byte blob: suffixes, open ends, clamping, 416 and ignored values', () => {
  const cases: Array<[string, ByteSpan | 'whole' | 416]> = [
    ['bytes=0-4', { start: 0, end: 4 }],
    ['bytes=5-', { start: 5, end: 9 }],
    ['bytes=-3', { start: 7, end: 9 }],
    ['bytes=-20', { start: 0, end: 9 }],
    ['bytes=2-100', { start: 2, end: 9 }],
    ['bytes=10-', 416],
    ['bytes=-0', 416],
    ['bytes=0-1,3-4', 'whole'],
    ['items=0-5', 'whole'],
    ['bytes=5-4', 'whole'],
  ];
  for (const [header, expected] of cases) assert.deepEqual(serve(header, 10), expected, header);
});

test('an empty blob ignores every range, even a valid one', () => {
  for (const header of ['bytes=0-0', 'bytes=0-', 'bytes=-1', 'bytes=5-9', 'bytes=-0']) {
    assert.equal(serve(header, 0), 'whole', header);
  }
});

test('edges of satisfiable ranges', () => {
  const cases: Array<[string, ByteSpan | 'whole' | 416]> = [
    ['bytes=0-0', { start: 0, end: 0 }],
    ['bytes=9-9', { start: 9, end: 9 }],
    ['bytes=9-', { start: 9, end: 9 }],
    ['bytes=0-9', { start: 0, end: 9 }],
    ['bytes=-10', { start: 0, end: 9 }],
    ['bytes=-1', { start: 9, end: 9 }],
    ['bytes=10-10', 416],
    ['bytes=10-20', 416],
    ['bytes=00-04', { start: 0, end: 4 }],
  ];
  for (const [header, expected] of cases) assert.deepEqual(serve(header, 10), expected, header);
});

test('the unit is case-insensitive', () => {
  assert.deepEqual(serve('BYTES=0-1', 10), { start: 0, end: 1 });
  assert.deepEqual(serve('Bytes=-2', 10), { start: 8, end: 9 });
});

test('unreadable values are ignored: unit, spaces, signs, non-decimal digits, overflow', () => {
  const ignored = [
    undefined,
    '',
    '0-4',
    '=0-4',
    'bytes=',
    'bytes=-',
    'bytes 0-4',
    'bytes= 0-4',
    ' bytes=0-4',
    'bytes=0 -4',
    'bytes=0- 4',
    'bytes=0-4 ',
    'bytes = 0-4',
    'bytes=a-b',
    'bytes=0x1-2',
    'bytes=+1-2',
    'bytes=1.5-2',
    'bytes=--3',
    'bytes=1-2-3',
    'bytes=٠-٤',
    'bytes=0-99999999999999999999',
    'bytes=99999999999999999999-',
    'bytes=-99999999999999999999',
    'bytes=0-4,',
  ];
  for (const header of ignored) assert.equal(serve(header, 10), 'whole', JSON.stringify(header));
});

test('offsets beyond 32 bits are kept exact', () => {
  const size = 6_000_000_000;
  assert.deepEqual(serve('bytes=5000000000-', size), { start: 5_000_000_000, end: size - 1 });
  assert.deepEqual(serve('bytes=-5000000000', size), { start: 1_000_000_000, end: size - 1 });
});

test('upload Content-Range is <start>-<end> without a unit and in order', () => {
  assert.equal(parseUploadContentRange(undefined), undefined);
  assert.deepEqual(parseUploadContentRange('0-4'), { start: 0, end: 4 });
  assert.deepEqual(parseUploadContentRange('5-9'), { start: 5, end: 9 });
  assert.deepEqual(parseUploadContentRange('3-3'), { start: 3, end: 3 });
  const invalid = ['bytes=0-9', 'bytes 0-9', '5-', '-5', '9-5', '', ' 0-4', '0-4 ', '0 - 4', 'a-b', '0-99999999999999999999'];
  for (const header of invalid) expectError(() => parseUploadContentRange(header), 'SIZE_INVALID', 416, JSON.stringify(header));
});

test('Content-Length is a plain decimal integer', () => {
  assert.equal(parseContentLength(undefined), undefined);
  assert.equal(parseContentLength('0'), 0);
  assert.equal(parseContentLength('5'), 5);
  assert.equal(parseContentLength('6000000000'), 6_000_000_000);
  const invalid = ['abc', '-1', '1.5', '', ' 5', '5 ', '+5', '1e3', '0x10', '99999999999999999999'];
  for (const header of invalid) expectError(() => parseContentLength(header), 'UNSUPPORTED', 400, JSON.stringify(header));
});
