import { CopyObjectCommand } from '@aws-sdk/client-s3';
import type { MultipartApi, Part } from './multipart-api.ts';
import { MIN_PART_SIZE } from './part-limits.ts';

export interface CopySettings {
  /** Objects up to this size are copied with one CopyObject. */
  threshold: number;
  /** Bytes per ranged UploadPartCopy above the threshold (5 MiB–5 GiB). */
  chunkSize: number;
  /** UploadPartCopy calls in flight at once. */
  jobs: number;
}

/**
 * Server-side copy within the bucket (the promotion of a finished upload to its blob key, docs/storage.md, "S3
 * uploads"). CopyObject is capped at 5 GB by S3, so a larger object is copied as a multipart upload of ranged
 * UploadPartCopy parts, `jobs` at a time. No byte passes through this process either way.
 */
export class ServerCopy {
  readonly #api: MultipartApi;
  readonly #settings: CopySettings;

  constructor(api: MultipartApi, settings: CopySettings) {
    this.#api = api;
    this.#settings = settings;
  }

  /** Copies `from` to `to` (bucket keys); `size` saves a HeadObject when the caller knows it. Missing `from` rejects with S3's 404. */
  async copy(from: string, to: string, size?: number): Promise<void> {
    const bytes = size ?? (await this.#api.sizeOf(from));
    if (bytes === undefined || bytes <= this.#settings.threshold) {
      // An absent source (size unknown) goes this way too, so the caller sees S3's own NoSuchKey.
      await this.#api.gateway.send((signal) =>
        this.#api.gateway.client.send(new CopyObjectCommand({ Bucket: this.#api.bucket, Key: to, CopySource: this.#api.source(from) }), {
          abortSignal: signal,
        }),
      );
      return;
    }
    await this.copyPrefix(from, to, bytes);
  }

  /**
   * Writes `to` as the first `size` bytes of `from` (which may be `to` itself: the source stands until the copy
   * completes), then `tail` when given: a multipart upload of ranged UploadPartCopy parts and `tail` as the last part.
   */
  async copyPrefix(from: string, to: string, size: number, tail?: Buffer): Promise<void> {
    const uploadId = await this.#api.create(to);
    try {
      const ranges = copyRanges(size, this.#settings.chunkSize, tail !== undefined);
      const parts: Pick<Part, 'PartNumber' | 'ETag'>[] = new Array(ranges.length);
      let next = 0;
      const worker = async () => {
        for (let index = next++; index < ranges.length; index = next++) {
          const PartNumber = index + 1;
          try {
            parts[index] = { PartNumber, ETag: await this.#api.uploadPartCopy(to, uploadId, PartNumber, this.#api.source(from), ranges[index]) };
          } catch (err) {
            // The other workers stop taking ranges: the copy has failed.
            next = ranges.length;
            throw err;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.#settings.jobs, ranges.length) }, worker));
      if (tail !== undefined) {
        const PartNumber = parts.length + 1;
        parts.push({ PartNumber, ETag: await this.#api.uploadPart(to, uploadId, PartNumber, tail) });
      }
      await this.#api.complete(to, uploadId, parts);
    } catch (err) {
      await this.#api.abort(to, [uploadId]).catch(() => undefined);
      throw err;
    }
  }
}

/**
 * Inclusive byte ranges of `chunkSize` (5 MiB–5 GiB) covering `size` bytes; only the last may be shorter. When
 * another part follows (`followed`), every range must be a legal non-final part: a last range under S3's minimum
 * takes the bytes it lacks from the range before it, or, when that would leave the one before under the minimum
 * (both together under 10 MiB), the two join.
 */
export function copyRanges(size: number, chunkSize: number, followed = false): { start: number; end: number }[] {
  const ranges: { start: number; end: number }[] = [];
  for (let start = 0; start < size; start += chunkSize) ranges.push({ start, end: Math.min(size, start + chunkSize) - 1 });
  const last = ranges.at(-1);
  const before = ranges.at(-2);
  if (followed && last !== undefined && before !== undefined && last.end - last.start + 1 < MIN_PART_SIZE) {
    if (last.end - before.start + 1 - MIN_PART_SIZE >= MIN_PART_SIZE) {
      before.end = last.end - MIN_PART_SIZE;
      last.start = before.end + 1;
    } else {
      before.end = last.end;
      ranges.pop();
    }
  }
  return ranges;
}
