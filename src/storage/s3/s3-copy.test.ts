import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MIN_PART_SIZE } from './part-limits.ts';
import { copyRanges } from './s3-copy.ts';

const MiB = 1024 * 1024;
const lengths = (ranges: { start: number; end: number }[]) => ranges.map(({ start, end }) => end - start + 1);

describe('copyRanges', () => {
  it('cuts chunkSize ranges, the last one shorter, covering every byte once', () => {
    const ranges = copyRanges(12 * MiB, 5 * MiB);
    assert.deepEqual(lengths(ranges), [5 * MiB, 5 * MiB, 2 * MiB]);
    assert.deepEqual(ranges.map(({ start }) => start), [0, 5 * MiB, 10 * MiB]);
  });

  it('followed by another part: a short last range takes bytes from the one before', () => {
    assert.deepEqual(lengths(copyRanges(102 * MiB, 50 * MiB, true)), [50 * MiB, 47 * MiB, 5 * MiB]);
  });

  it('followed by another part: a short last range joins the one before when both are under 10 MiB', () => {
    assert.deepEqual(lengths(copyRanges(6 * MiB, 5 * MiB, true)), [6 * MiB]);
    assert.deepEqual(lengths(copyRanges(14 * MiB, 5 * MiB, true)), [5 * MiB, 9 * MiB]);
  });

  it('every non-final part of a followed copy is legal, for sizes around the boundaries', () => {
    for (const chunk of [5 * MiB, 8 * MiB, 100_000_000]) {
      for (const size of [5 * MiB, 5 * MiB + 1, 10 * MiB - 1, 10 * MiB, 3 * chunk - 1, 3 * chunk + 1, 3 * chunk + MIN_PART_SIZE - 1]) {
        const ranges = copyRanges(size, chunk, true);
        assert.equal(lengths(ranges).reduce((a, b) => a + b, 0), size, `${size} bytes covered`);
        assert.ok(lengths(ranges).every((length) => length >= MIN_PART_SIZE), `${size} in ${chunk} chunks: ${lengths(ranges).join(', ')}`);
        ranges.forEach((range, index) => index > 0 && assert.equal(range.start, ranges[index - 1]!.end + 1));
      }
    }
  });
});
