import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Runs `use` on the server side of a real loopback HTTP request (`GET` unless `method` says otherwise), for
 * code that reads an `IncomingMessage`: its socket, raw target and headers are what a client really sent.
 */
export async function withIncomingRequest<T>(
  target: string,
  headers: OutgoingHttpHeaders,
  use: (req: IncomingMessage) => Promise<T> | T,
  method = 'GET',
): Promise<T> {
  let outcome: { value: T } | { error: unknown } | undefined;
  const server = createServer((req, res) => {
    Promise.resolve()
      .then(() => use(req))
      .then((value) => (outcome = { value }), (error: unknown) => (outcome = { error }))
      .finally(() => res.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve, reject) => {
      const client = request({ host: '127.0.0.1', port, path: target, method, headers, agent: false }, (res) => {
        res.resume();
        res.once('end', resolve);
      });
      client.once('error', reject);
      client.end();
    });
  } finally {
    server.close();
  }
  if (outcome === undefined) throw new Error('the request never reached the server');
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}
