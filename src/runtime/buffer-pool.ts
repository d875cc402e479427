import type { BufferSource } from '../storage/fs/file-body.ts';

/**
 * Buffers handed back after use and handed out again, up to `keep` of them. A download's copy buffers are
 * allocations outside the JavaScript heap that V8 frees only at its next collection, so fresh ones per download
 * pile up in resident memory under load.
 */
export class BufferPool implements BufferSource {
  readonly #keep: number;
  readonly #spare: Buffer[] = [];

  constructor(keep: number) {
    this.#keep = keep;
  }

  take(size: number): Buffer {
    const index = this.#spare.findIndex((buffer) => buffer.length === size);
    return index === -1 ? Buffer.allocUnsafeSlow(size) : this.#spare.splice(index, 1)[0]!;
  }

  give(buffer: Buffer): void {
    if (this.#spare.length < this.#keep) this.#spare.push(buffer);
  }
}
