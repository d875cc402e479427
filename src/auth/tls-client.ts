// The HTTPS side of the registry's own outgoing calls to a configured remote (an authorization webhook, an OIDC
// provider): extra trusted roots and an optional client certificate (docs/configuration.md). The files are read
// once per configured remote; configurations are frozen and replaced whole on reload, so the configuration
// object identifies its agent and a reload reads the files again.
import { readFile } from 'node:fs/promises';
import { Agent as HttpsAgent } from 'node:https';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, getCACertificates } from 'node:tls';

/** The TLS keys shared by `[auth.webhook.<name>]` and `[auth.oidc.<name>]`: paths as configured. */
export interface TlsClientFiles {
  /** Added to the default roots, never replacing them. */
  readonly serverCaBundle: string | undefined;
  /** Both set or both undefined (checked at load). */
  readonly clientCertificateBundle: string | undefined;
  readonly clientPrivateKey: string | undefined;
}

const agents = new WeakMap<TlsClientFiles, Promise<HttpsAgent>>();

/**
 * The connection pool for one configured remote, built on first use. `section` (`auth.webhook.opa`) starts every
 * error message, so an operator reading "cannot read server_ca_bundle" knows which entry to fix. Callers build it
 * at start-up so an unreadable file stops the server instead of failing every request.
 */
export function tlsClientAgent(remote: TlsClientFiles, section: string): Promise<HttpsAgent> {
  let agent = agents.get(remote);
  if (agent === undefined) {
    agent = buildTlsClientAgent(remote, section);
    // A failed read is retried on the next call rather than remembered: the file may be fixed in place.
    agent.catch(() => agents.delete(remote));
    agents.set(remote, agent);
  }
  return agent;
}

/** A fresh agent (no memo): reads the files now and checks that the certificate and key belong together. */
export async function buildTlsClientAgent(remote: TlsClientFiles, section: string): Promise<HttpsAgent> {
  if ((remote.clientCertificateBundle === undefined) !== (remote.clientPrivateKey === undefined)) {
    throw new Error(`${section}: both client_certificate_bundle and client_private_key are required for mTLS`);
  }
  const read = (path: string | undefined, key: string) =>
    path === undefined
      ? undefined
      : readFile(path).catch((err: NodeJS.ErrnoException) => {
          throw new Error(`${section}: cannot read ${key} '${path}': ${err.code ?? err.message}`);
        });
  const [ca, cert, key] = await Promise.all([
    read(remote.serverCaBundle, 'server_ca_bundle'),
    read(remote.clientCertificateBundle, 'client_certificate_bundle'),
    read(remote.clientPrivateKey, 'client_private_key'),
  ]);
  if (ca === undefined && cert === undefined) return new HttpsAgent({ keepAlive: true });
  try {
    // Built once here rather than from `ca`/`cert`/`key` on every connection: parsing the whole root store per
    // handshake is costly, and a broken PEM or a key that does not match its certificate is reported now, at
    // start-up, instead of as an opaque handshake failure later. `ca` replaces the trust store, so the default
    // roots (Node's bundled ones, NODE_EXTRA_CA_CERTS, the system store under --use-system-ca) go along with it.
    const secureContext = createSecureContext({
      ...(ca ? { ca: [...getCACertificates('default'), ...certificatesOf(ca)] } : {}),
      ...(cert && key ? { cert, key } : {}),
    });
    return new HttpsAgent({ keepAlive: true, secureContext });
  } catch (err) {
    throw new Error(`${section}: invalid TLS material: ${(err as Error).message}`);
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** The PEM certificates of a CA bundle: OpenSSL silently skips what it cannot parse, which would leave no root. */
function certificatesOf(bundle: Buffer): string[] {
  const blocks = bundle.toString('utf8').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new Error('server_ca_bundle holds no PEM certificate');
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new Error(`server_ca_bundle certificate #${index + 1}: ${(err as Error).message}`);
    }
  });
  return blocks;
}
