import assert from 'node:assert/strict';
import { lstat, readdir } from 'node:fs/promises';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';

const STREAM_CHUNK = 256 * 1024;
/** Proof that the server was writing the unfinished body when it died. */
const SEEN_ON_DISK = 1024 * 1024;

/** Bytes of every file under `dirs`: layout-agnostic evidence that body bytes reached storage (a root, or s3rver's directories). */
export async function storedBytes(dirs: readonly string[]): Promise<number> {
  let total = 0;
  for (const dir of dirs) total += await bytesUnder(dir);
  return total;
}

async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0; // removed while walking (a session promoted or cleaned up)
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await bytesUnder(path);
    else total += await lstat(path).then((stats) => stats.size, () => 0);
  }
  return total;
}

/** A request whose body is written piece by piece and never finished: the server is killed while it waits for more. */
export class UnfinishedRequest {
  readonly request: ClientRequest;
  sent = 0;
  response: IncomingMessage | undefined;
  readonly description: string;

  constructor(url: string, method: string, headers: Record<string, string>) {
    this.description = `${method} ${url}`;
    this.request = request(url, { method, headers });
    // The connection dies with the server: that is the point, not a failure.
    this.request.on('error', () => {});
    this.request.on('response', (response) => {
      this.response = response;
      response.resume();
    });
    this.request.flushHeaders();
  }

  /** Streams `body` with backpressure until `bytesDirs` hold 1 MiB more than before or `until` bytes are sent. */
  async streamUntilStored(body: Buffer, bytesDirs: readonly string[], until: number): Promise<void> {
    const baseline = await storedBytes(bytesDirs);
    while (this.sent < until && this.response === undefined) {
      const chunk = body.subarray(this.sent, Math.min(this.sent + STREAM_CHUNK, until));
      this.sent += chunk.length;
      if (!this.request.write(chunk)) await this.#drained();
      if ((await storedBytes(bytesDirs)) - baseline >= SEEN_ON_DISK) return;
    }
  }

  #drained(): Promise<void> {
    return new Promise((done) => {
      const finish = (): void => {
        this.request.off('drain', finish).off('close', finish);
        done();
      };
      this.request.on('drain', finish).on('close', finish);
    });
  }

  expectStillReading(): void {
    assert.equal(this.response?.statusCode, undefined, `${this.description} was answered before the crash`);
  }
}
