import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * A stored object's bytes that can also copy themselves into a writable through a few reused buffers. A plain
 * stream allocates a fresh buffer per chunk (the consumer may keep it), and at download rates that garbage, not
 * the copying, is what costs.
 */
export interface CopyableBody extends Readable {
  /** Writes every byte into `dest` and ends it. Use instead of reading the stream, never as well. */
  copyInto(dest: Writable): Promise<void>;
}

function isCopyable(body: Readable): body is CopyableBody {
  return typeof (body as Partial<CopyableBody>).copyInto === 'function';
}

/** Sends `body` into `dest` and ends it, by the cheapest way the body offers; rejects if `dest` closes early. */
export function sendBody(body: Readable, dest: Writable): Promise<void> {
  return isCopyable(body) ? body.copyInto(dest) : pipeline(body, dest);
}
