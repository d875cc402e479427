import { connect, type Socket } from 'node:net';
import { ResponseParser, type ResponseHead } from './response-parser.ts';

const IDLE_TIMEOUT_MS = 60_000;

/** One keep-alive connection sending one request at a time, with no per-request objects beyond a promise. */
export class RawConnection {
  readonly #socket: Socket;
  readonly #parser = new ResponseParser();
  #waiting: { resolve: (head: ResponseHead) => void; reject: (error: Error) => void } | undefined;
  #closed: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy(new Error(`no answer within ${IDLE_TIMEOUT_MS} ms`)));
    const fail = (error?: Error): void => {
      this.#closed = error ?? new Error('connection closed by the server');
      this.#settle(this.#closed, undefined);
    };
    socket.on('error', fail);
    socket.on('close', () => fail());
  }

  /**
   * Socket reads land in one reused buffer of `readBufferBytes` (`onread`), so skipping a 256 MiB body
   * allocates and copies nothing.
   */
  static open(host: string, port: number, readBufferBytes = 64 * 1024): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      let connection: RawConnection | undefined;
      const onread = (length: number, buffer: Uint8Array): boolean => {
        try {
          const head = connection!.#parser.feed(Buffer.from(buffer.buffer, buffer.byteOffset, length));
          if (head !== undefined) connection!.#settle(undefined, head);
        } catch (error) {
          socket.destroy(error as Error);
        }
        return true;
      };
      const socket = connect({ host, port, onread: { buffer: Buffer.allocUnsafe(readBufferBytes), callback: onread } });
      socket.once('connect', () => {
        socket.off('error', reject);
        connection = new RawConnection(socket);
        resolve(connection);
      });
      socket.once('error', reject);
    });
  }

  get usable(): boolean {
    return this.#closed === undefined;
  }

  /** Sends a pre-encoded request (see `encodeRequest`) and resolves with the answer once its body is skipped. */
  send(method: string, encoded: Buffer): Promise<ResponseHead> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    this.#parser.expect(method);
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#socket.write(encoded);
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #settle(error: Error | undefined, head: ResponseHead | undefined): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting === undefined) return;
    if (head !== undefined) waiting.resolve(head);
    else waiting.reject(error ?? new Error('no response'));
  }
}

export function encodeRequest(method: string, host: string, path: string, headers: Record<string, string>): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, `host: ${host}`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}
