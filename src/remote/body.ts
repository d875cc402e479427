// Bounded reads of remote bodies: a manifest, a listing page or a token answer is read into memory, so a remote
// that sends more than expected is cut off at the limit instead of filling the heap.
import type { Readable } from 'node:stream';
import { RemoteError } from './remote-error.ts';
import { discard } from './transport.ts';

/** Reads `body` whole if it holds at most `limit` bytes; past that it is destroyed and a RemoteError thrown. */
export async function readLimited(body: Readable, limit: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limit) throw new RemoteError(`${what} exceeds ${limit} bytes`);
      parts.push(chunk);
    }
  } catch (error) {
    discard(body);
    if (error instanceof RemoteError) throw error;
    throw new RemoteError(`${what}: ${(error as Error).message}`, { cause: error });
  }
  return Buffer.concat(parts, total);
}
