import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A raw loopback connection the test holds: it writes exactly what it is told, when it is told (a request sent
 * whole, headers or a body dripped a few bytes at a time, a download it never reads), and can be abandoned at any
 * moment. Used to hold concurrency slots, queue for them and give up (docs/configuration.md,
 * `max_concurrent_requests`).
 */
export class HeldConnection {
  readonly socket: Socket;
  #received = '';
  readonly #answered: Promise<number | undefined>;

  constructor(baseUrl: string) {
    const { port, hostname } = new URL(baseUrl);
    this.socket = connect(Number(port), hostname);
    // The test itself may destroy the connection, or the server close it: neither is an error here.
    this.socket.on('error', () => {});
    this.socket.setEncoding('latin1');
    this.#answered = new Promise((resolve) => {
      this.socket.on('data', (chunk: string) => {
        if (this.#received.length < 4096) this.#received += chunk;
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(this.#received);
        if (status) resolve(Number(status[1]));
      });
      this.socket.on('close', () => resolve(undefined));
    });
  }

  /** Opens a connection and writes `bytes` at once (a whole request, or a head whose body follows later). */
  static open(baseUrl: string, bytes: string): HeldConnection {
    const connection = new HeldConnection(baseUrl);
    connection.socket.write(bytes, 'latin1');
    return connection;
  }

  /** Writes `bytes` `step` bytes at a time, one step every `intervalMs`; stops early if the connection closes. */
  async drip(bytes: string | Buffer, step: number, intervalMs: number): Promise<void> {
    const data = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    for (let offset = 0; offset < data.length && !this.socket.destroyed; offset += step) {
      this.socket.write(data.subarray(offset, offset + step));
      if (offset + step < data.length) await sleep(intervalMs);
    }
  }

  /** Stops reading: a download the client never consumes holds its server-side slot through backpressure. */
  stall(): this {
    this.socket.pause();
    return this;
  }

  /** The status of the first answer, or undefined if the connection closed first or nothing came within `withinMs`. */
  answer(withinMs: number): Promise<number | undefined> {
    return Promise.race([this.#answered, sleep(withinMs).then(() => undefined)]);
  }

  /** Gives up: the connection is reset and closed. */
  async abandon(): Promise<void> {
    this.socket.destroy();
    if (!this.socket.closed) await once(this.socket, 'close');
  }
}
