import { OciError, UnsatisfiableRangeError } from './errors.ts';

/** A parsed, not yet resolved `Range` request: `bytes=S-E`, `bytes=S-` or `bytes=-L`. */
export type RangeRequest = { readonly start: number; readonly end?: number } | { readonly suffix: number };

/** Inclusive byte span of a blob. */
export interface ByteSpan {
  start: number;
  end: number;
}

const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/i;

/**
 * Parses a `Range` header (docs/api.md, "Ranges"): anything unreadable, multi-range, `S > E` or overflowing is
 * ignored (undefined), so the whole blob is served.
 */
export function parseRangeHeader(header: string | undefined): RangeRequest | undefined {
  if (header === undefined) return undefined;
  const match = SINGLE_RANGE.exec(header);
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  const start = first === '' ? undefined : toSafeInt(first);
  const end = last === '' ? undefined : toSafeInt(last);
  if (start === null || end === null) return undefined;
  if (start === undefined) return { suffix: end! };
  if (end !== undefined && start > end) return undefined;
  return end === undefined ? { start } : { start, end };
}

/**
 * Resolves a range against the blob size: undefined = serve whole (200); a span = 206; throws `SIZE_INVALID` (416)
 * when unsatisfiable.
 */
export function resolveRange(range: RangeRequest | undefined, size: number): ByteSpan | undefined {
  if (range === undefined || size === 0) return undefined;
  if ('suffix' in range) {
    if (range.suffix === 0) throw unsatisfiable(size);
    return { start: Math.max(0, size - range.suffix), end: size - 1 };
  }
  if (range.start >= size) throw unsatisfiable(size);
  return { start: range.start, end: Math.min(range.end ?? size - 1, size - 1) };
}

function unsatisfiable(size: number): OciError {
  return new UnsatisfiableRangeError(size);
}

const CONTENT_RANGE = /^(\d+)-(\d+)$/;

/**
 * A PATCH/PUT `Content-Range` (`<start>-<end>`, no unit, start ≤ end), else `SIZE_INVALID` (docs/api.md, "Status,
 * chunks and completion").
 */
export function parseUploadContentRange(header: string | undefined): ByteSpan | undefined {
  if (header === undefined) return undefined;
  const match = CONTENT_RANGE.exec(header);
  const start = match ? toSafeInt(match[1]!) : null;
  const end = match ? toSafeInt(match[2]!) : null;
  if (start === null || end === null || start > end) {
    throw new OciError('SIZE_INVALID', `invalid Content-Range '${header.slice(0, 100)}'`);
  }
  return { start, end };
}

/** A `Content-Length` value: undefined when absent, else a safe integer, else `UNSUPPORTED`. */
export function parseContentLength(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = /^\d+$/.test(header) ? toSafeInt(header) : null;
  if (value === null) throw new OciError('UNSUPPORTED', `invalid Content-Length '${header.slice(0, 100)}'`);
  return value;
}

function toSafeInt(digits: string): number | null {
  const value = Number(digits);
  return Number.isSafeInteger(value) ? value : null;
}
