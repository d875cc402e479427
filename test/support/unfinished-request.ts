import assert from 'node:assert/strict';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';

const STREAM_CHUNK = 256 * 1024;
/** Proof that the server was writing the unfinished body when it died. */
const SEEN_STORED = 1024 * 1024;

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

  /**
   * Streams `body` with backpressure until `storedBytes()` (what the storage holds of the server's place, see
   * `StorageBackend.storedBytes`) is 1 MiB more than before, or `until` bytes are sent. Storage is looked at after
   * every chunk and the next chunk waits for the look, so the request is cut right after its first bytes are stored.
   */
  async streamUntilStored(body: Buffer, storedBytes: () => Promise<number>, until: number): Promise<void> {
    const baseline = await storedBytes();
    while (this.sent < until && this.response === undefined) {
      const chunk = body.subarray(this.sent, Math.min(this.sent + STREAM_CHUNK, until));
      this.sent += chunk.length;
      if (!this.request.write(chunk)) await this.#drained();
      if ((await storedBytes()) - baseline >= SEEN_STORED) return;
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
