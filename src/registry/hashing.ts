import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { createSHA256, createSHA512, type IHasher } from 'hash-wasm';
import { makeDigest, type Digest, type DigestAlgorithm } from '../oci/digest.ts';
import { RegistryError } from './errors.ts';

/** A running hash of a byte stream and how many bytes it has seen. */
export interface StreamHash {
  readonly algorithm: DigestAlgorithm;
  readonly offset: number;
  update(chunk: Buffer): void;
  /** The digest so far. */
  digest(): Digest;
}

/** Node's (OpenSSL's) hash: the fastest, but its state cannot leave the process. */
export class RunningHash implements StreamHash {
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

}

/**
 * A hash whose state can be saved and restored in another process (docs/storage.md, "Uploads"), for stores whose
 * partial uploads cannot be read back (S3 multipart parts). Several times slower than `RunningHash`, so used only
 * there.
 */
export class ExportableHash implements StreamHash {
  readonly algorithm: DigestAlgorithm;
  offset: number;
  private readonly hasher: IHasher;

  private constructor(algorithm: DigestAlgorithm, hasher: IHasher, offset: number) {
    this.algorithm = algorithm;
    this.hasher = hasher;
    this.offset = offset;
  }

  /** A fresh hash, or one continued from `saved` (base64 state of `save()`) at `offset`. */
  static async create(algorithm: DigestAlgorithm, saved?: { state: string; offset: number }): Promise<ExportableHash> {
    const hasher = await (algorithm === 'sha256' ? createSHA256() : createSHA512());
    hasher.init();
    if (saved) hasher.load(Buffer.from(saved.state, 'base64'));
    return new ExportableHash(algorithm, hasher, saved?.offset ?? 0);
  }

  update(chunk: Buffer): void {
    this.hasher.update(chunk);
    this.offset += chunk.length;
  }

  digest(): Digest {
    const copy = this.hasher.save();
    const hex = this.hasher.digest('hex');
    this.hasher.load(copy);
    return makeDigest(this.algorithm, hex);
  }

  save(): string {
    return Buffer.from(this.hasher.save()).toString('base64');
  }
}

/**
 * A pass-through that feeds every chunk to the hashes and fails with `blob-too-large` once more than
 * `allowance` bytes went by, so an oversized chunked body is cut off instead of stored whole.
 */
export function hashingLimiter(hashes: readonly StreamHash[], allowance: number): Transform & { bytes: number } {
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      bytes += chunk.length;
      stream.bytes = bytes;
      if (bytes > allowance) {
        callback(new RegistryError('blob-too-large', 'blob exceeds the maximum allowed size'));
        return;
      }
      for (const hash of hashes) hash.update(chunk);
      callback(null, chunk);
    },
  }) as Transform & { bytes: number };
  stream.bytes = 0;
  return stream;
}
