// The TLS material of one remote (spec §1.1): `server_ca_bundle` ADDED to the default roots, and the mTLS pair.
// Read when the repositories are built, so an unreadable or broken file is a start-up (or reload) error naming
// the key and the file, never a handshake failure on the first pull.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createSecureContext, getCACertificates, type SecureContext } from 'node:tls';
import type { RemoteClientConfig } from '../config/types.ts';

type TlsFiles = Pick<RemoteClientConfig, 'serverCaBundle' | 'clientCertificate' | 'clientPrivateKey'>;

interface TlsBytes {
  readonly ca: Buffer | undefined;
  readonly cert: Buffer | undefined;
  readonly key: Buffer | undefined;
}

const KEYS = [
  ['serverCaBundle', 'server_ca_bundle'],
  ['clientCertificate', 'client_certificate'],
  ['clientPrivateKey', 'client_private_key'],
] as const;

function unreadable(section: string, key: string, path: string, error: unknown): Error {
  return new Error(`${section}: cannot read ${key} '${path}': ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
}

/** Reads the configured files; `section` (`repository."hub".upstream[0]`) starts every error message. */
export async function readRemoteTls(files: TlsFiles, section: string): Promise<SecureContext | undefined> {
  const [ca, cert, key] = await Promise.all(
    KEYS.map(async ([field, key]) => {
      const path = files[field];
      if (path === undefined) return undefined;
      return readFile(path).catch((error: unknown) => {
        throw unreadable(section, key, path, error);
      });
    }),
  );
  return secureContextOf({ ca, cert, key }, files, section);
}

/** As `readRemoteTls`, synchronously: for a client built by its constructor alone. */
export function readRemoteTlsSync(files: TlsFiles, section: string): SecureContext | undefined {
  const [ca, cert, key] = KEYS.map(([field, key]) => {
    const path = files[field];
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      throw unreadable(section, key, path, error);
    }
  });
  return secureContextOf({ ca, cert, key }, files, section);
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/**
 * One context for every connection: parsing the root store per handshake is costly, and a broken PEM or a key
 * that does not belong to its certificate shows now. `ca` replaces the trust store, so the default roots (Node's
 * bundled ones, NODE_EXTRA_CA_CERTS, the system store under --use-system-ca) go along with the bundle.
 */
function secureContextOf(bytes: TlsBytes, files: TlsFiles, section: string): SecureContext | undefined {
  if (bytes.ca === undefined && bytes.cert === undefined) return undefined;
  if ((bytes.cert === undefined) !== (bytes.key === undefined)) {
    throw new Error(`${section}: both client_certificate and client_private_key are required for mTLS`);
  }
  let roots: string[] | undefined;
  if (bytes.ca !== undefined) {
    const blocks = bytes.ca.toString('utf8').match(PEM_CERTIFICATE) ?? [];
    if (blocks.length === 0) throw new Error(`${section}: server_ca_bundle '${files.serverCaBundle}' holds no PEM certificate`);
    blocks.forEach((block, index) => {
      try {
        new X509Certificate(block);
      } catch (error) {
        throw new Error(`${section}: server_ca_bundle '${files.serverCaBundle}' certificate #${index + 1}: ${(error as Error).message}`);
      }
    });
    roots = [...getCACertificates('default'), ...blocks];
  }
  try {
    return createSecureContext({ ...(roots ? { ca: roots } : {}), ...(bytes.cert && bytes.key ? { cert: bytes.cert, key: bytes.key } : {}) });
  } catch (error) {
    throw new Error(
      `${section}: invalid client_certificate '${files.clientCertificate}' or client_private_key '${files.clientPrivateKey}': ${(error as Error).message}`,
    );
  }
}
