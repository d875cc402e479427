import { connect } from 'node:net';

export interface RawAnswer {
  /** The status of the first response, or undefined when the server closed (or stayed silent) without one. */
  status: number | undefined;
  /** Everything read before the answer's head was complete (or the connection ended). */
  head: string;
}

export interface RawOptions {
  /**
   * Half-close the connection after the bytes: how a client says a message it cut short is all it will send.
   * Node's HTTP server takes a half-close as the client leaving (`httpAllowHalfOpen` is off), so a complete
   * request must be sent without it to be answered.
   */
  halfClose?: boolean;
  timeoutMs?: number;
}

/**
 * Writes `bytes` verbatim on a fresh loopback connection and returns the first response status. Unlike
 * `rawRequest` (`http.ts`) it does not fail when no answer comes: for framing a client cut short silence or a
 * close can be a correct outcome, and the caller counts it.
 */
export function rawExchange(baseUrl: string, bytes: Buffer | string, options: RawOptions = {}): Promise<RawAnswer> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let received = '';
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      resolve({ status: status ? Number(status[1]) : undefined, head: received.slice(0, 2000) });
    };
    const timer = setTimeout(finish, options.timeoutMs ?? 10_000);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n\r\n')) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
    const data = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    if (options.halfClose) socket.end(data);
    else socket.write(data);
  });
}
