import type { Digest } from '../../oci/digest.ts';

/**
 * Manifest bodies by digest. Content-addressed bytes never change, and callers consult it only after the
 * revision check that proves the bytes are live, so an entry is never stale; least recently used entries go
 * once `capacityBytes` is reached.
 */
export class BodyCache {
  readonly #capacityBytes: number;
  readonly #largestBytes: number;
  readonly #entries = new Map<Digest, Buffer>();
  #bytes = 0;

  constructor(capacityBytes: number, largestBytes: number) {
    this.#capacityBytes = capacityBytes;
    this.#largestBytes = largestBytes;
  }

  async get(digest: Digest, read: () => Promise<Buffer>): Promise<Buffer> {
    const hit = this.#entries.get(digest);
    if (hit) {
      this.#entries.delete(digest);
      this.#entries.set(digest, hit);
      return hit;
    }
    const body = await read();
    if (body.length <= this.#largestBytes && !this.#entries.has(digest)) {
      this.#entries.set(digest, body);
      this.#bytes += body.length;
      for (const [oldest, bytes] of this.#entries) {
        if (this.#bytes <= this.#capacityBytes) break;
        this.#entries.delete(oldest);
        this.#bytes -= bytes.length;
      }
    }
    return body;
  }
}
