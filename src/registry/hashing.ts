import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { makeDigest, type Digest, type DigestAlgorithm } from '../oci/digest.ts';
import { OciError } from '../oci/errors.ts';

/** A running hash of a byte stream and how many bytes it has seen. */
export class RunningHash {
  readonly algorithm: DigestAlgorithm;
  offset: number;
  private readonly hash: Hash;

  constructor(algorithm: DigestAlgorithm, offset = 0, hash = createHash(algorithm)) {
    this.algorithm = algorithm;
    this.offset = offset;
    this.hash = hash;
  }

  update(chunk: Buffer): void {
    this.hash.update(chunk);
    this.offset += chunk.length;
  }

  /** The digest so far, leaving this hash usable for more bytes. */
  digest(): Digest {
    return makeDigest(this.algorithm, this.hash.copy().digest('hex'));
  }

  fork(): RunningHash {
    return new RunningHash(this.algorithm, this.offset, this.hash.copy());
  }
}

/**
 * A pass-through that feeds every chunk to `hash` and fails with `413 BLOB_UPLOAD_INVALID` once more than
 * `allowance` bytes went by, so an oversized chunked body is cut off instead of stored whole.
 */
export function hashingLimiter(hash: RunningHash | undefined, allowance: number): Transform & { bytes: number } {
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      bytes += chunk.length;
      stream.bytes = bytes;
      if (bytes > allowance) {
        callback(new OciError('BLOB_UPLOAD_INVALID', 'blob exceeds the maximum allowed size'));
        return;
      }
      hash?.update(chunk);
      callback(null, chunk);
    },
  }) as Transform & { bytes: number };
  stream.bytes = 0;
  return stream;
}
