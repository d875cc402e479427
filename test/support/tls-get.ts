import type { IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { checkServerIdentity } from 'node:tls';

export interface TlsAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface TlsClient {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
  headers?: Record<string, string>;
}

/** A GET over HTTPS to a test server on 127.0.0.1, trusting `ca` and presenting the client certificate if given. */
export function tlsGet(port: number, path: string, client: TlsClient): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        ca: client.ca,
        cert: client.cert,
        key: client.key,
        headers: client.headers ?? {},
        agent: false,
        // The certificate names the address connected to, whatever Host header a test sends.
        checkServerIdentity: (_host, certificate) => checkServerIdentity('127.0.0.1', certificate),
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
