/** Incoming chunks held until a part's worth is there; `take` copies out exactly the bytes asked for. */
export class ByteQueue {
  readonly #chunks: Buffer[] = [];
  length = 0;

  push(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.#chunks.push(bytes);
    this.length += bytes.length;
  }

  unshift(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.#chunks.unshift(bytes);
    this.length += bytes.length;
  }

  /** The first `count` bytes (at most `length`), removed from the queue. */
  take(count: number): Buffer {
    const out = Buffer.allocUnsafe(Math.min(count, this.length));
    let filled = 0;
    while (filled < out.length) {
      const head = this.#chunks[0]!;
      const take = Math.min(head.length, out.length - filled);
      head.copy(out, filled, 0, take);
      if (take === head.length) this.#chunks.shift();
      else this.#chunks[0] = head.subarray(take);
      filled += take;
    }
    this.length -= out.length;
    return out;
  }
}

export function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`upload body yielded a ${typeof chunk}, expected bytes`);
}
