import { createHash, randomBytes, type Hash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';

/** One blob as the client sends it: bytes come from memory in slices, so the client never waits on a disk. */
export interface Blob {
  digest: string;
  size: number;
  /** Bytes [start, end) in slices of at most 1 MiB, without copying. */
  bytes(start?: number, end?: number): AsyncIterable<Buffer>;
}

const SLICE = 1024 * 1024;
/** Each pushed blob differs from the others in its last bytes only, so its digest costs a hash of those bytes. */
const TAIL = 4096;

/**
 * Random content generated once. `base` is the content itself (pulled, and served by nginx from `file`);
 * `variant(n)` is a distinct blob of the same size for every push, so no push can be answered by "already have it".
 */
export class BlobSource {
  readonly base: Blob;
  readonly #content: Buffer;
  readonly #prefixHash: Hash;

  private constructor(content: Buffer) {
    this.#content = content;
    this.#prefixHash = createHash('sha256').update(content.subarray(0, content.length - TAIL));
    this.base = this.#blob(content.subarray(content.length - TAIL));
  }

  /** `file`, when given, receives the content (what nginx serves). */
  static async create(size: number, file?: string): Promise<BlobSource> {
    if (size <= TAIL) throw new Error(`blob size ${size} must exceed ${TAIL} bytes`);
    const content = Buffer.allocUnsafe(size);
    for (let offset = 0; offset < size; offset += SLICE) randomBytes(Math.min(SLICE, size - offset)).copy(content, offset);
    if (file !== undefined) await writeFile(file, content);
    return new BlobSource(content);
  }

  variant(n: number): Blob {
    const tail = randomBytes(TAIL);
    tail.writeUInt32BE(n, 0);
    return this.#blob(tail);
  }

  #blob(tail: Buffer): Blob {
    const prefix = this.#content.subarray(0, this.#content.length - TAIL);
    const size = this.#content.length;
    return {
      digest: `sha256:${this.#prefixHash.copy().update(tail).digest('hex')}`,
      size,
      async *bytes(start = 0, end = size) {
        for (let offset = start; offset < end; offset += SLICE) {
          const stop = Math.min(end, offset + SLICE);
          if (stop <= prefix.length) {
            yield prefix.subarray(offset, stop);
          } else if (offset >= prefix.length) {
            yield tail.subarray(offset - prefix.length, stop - prefix.length);
          } else {
            yield prefix.subarray(offset);
            yield tail.subarray(0, stop - prefix.length);
          }
        }
      },
    };
  }
}
