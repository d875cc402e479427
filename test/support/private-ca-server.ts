// An HTTPS server on loopback whose certificate comes from a private CA made by openssl for the test, and which
// answers only clients presenting a certificate from that same CA: the peer for tests of the registry's own
// outgoing TLS (CA bundles, client certificates).
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { makeCertificates, type CertificateFiles } from '../e2e/auth-fixtures.ts';
import { findBinary } from './binaries.ts';

/**
 * For `describe(..., { skip: missingOpenssl })`: the reason to skip on a developer's machine without openssl, or
 * false. In CI the suite runs regardless, so a missing binary fails it instead of turning it green.
 */
export const missingOpenssl: string | false =
  findBinary('openssl') === undefined && !process.env.CI ? 'missing openssl on PATH (Debian: apt-get install -y openssl)' : false;

export interface PrivateCaServer {
  /** The CA, server and client certificates (`clientCert` has CN=build; `strangerCert` chains to nothing). */
  readonly files: CertificateFiles;
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  /** The client certificate CN of every request that got through the handshake, in order. */
  readonly clients: string[];
  close(): Promise<void>;
}

/** Starts the server; `answer` gives the body for each accepted request and its client's CN. */
export async function startPrivateCaServer(answer: (req: IncomingMessage, client: string) => string): Promise<PrivateCaServer> {
  const dir = await mkdtemp(join(tmpdir(), 'angos-private-ca-'));
  const files = await makeCertificates(dir);
  const clients: string[] = [];
  const server = createServer(
    { cert: await readFile(files.serverCert), key: await readFile(files.serverKey), ca: await readFile(files.caCert), requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const client = String((req.socket as TLSSocket).getPeerCertificate().subject.CN);
      clients.push(client);
      res.end(answer(req, client));
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    files,
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    clients,
    async close() {
      server.closeAllConnections();
      server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
