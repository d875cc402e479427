import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Server as HttpsServer, ServerOptions as TlsServerOptions } from 'node:https';
import { basename, dirname, resolve } from 'node:path';
import type { TlsConfig } from '../config/types.ts';
import { logger } from '../observability/logging.ts';

const log = logger('angos::http::tls');

/** `[server.tls]`: the certificate chain and key, and the client CA bundle for mTLS. */
export async function readTlsFiles(tls: TlsConfig): Promise<TlsServerOptions> {
  const [cert, key, ca] = await Promise.all([
    readFile(tls.serverCertificateBundle),
    readFile(tls.serverPrivateKey),
    tls.clientCaBundle === undefined ? undefined : readFile(tls.clientCaBundle),
  ]);
  if (!ca) return { cert, key };
  return { cert, key, ca, requestCert: true, rejectUnauthorized: tls.clientAuth === 'required' };
}

const DEBOUNCE_MS = 100;

/**
 * Reloads the certificate, key and CA bundle when their files change (docs/operations.md, "TLS"): new handshakes
 * use the new context, open connections keep theirs. A failed reload (a half-written file, a key that does not
 * match) keeps the previous context and logs; the next change retries. Directories are watched, not files, so a
 * file replaced by rename (or a Kubernetes `..data` swap) is seen. Returns a function that stops watching.
 */
export function reloadTlsOnChange(server: HttpsServer, tls: TlsConfig): () => void {
  const files = [tls.serverCertificateBundle, tls.serverPrivateKey, tls.clientCaBundle].filter((f): f is string => f !== undefined);
  const names = new Set(files.map((file) => basename(file)));
  let timer: NodeJS.Timeout | undefined;
  const reload = async () => {
    try {
      const options = await readTlsFiles(tls);
      server.setSecureContext(options);
      log.info('TLS configuration reloaded');
    } catch (err) {
      log.error(`Failed to reload TLS configuration: ${(err as Error).message}`);
    }
  };
  const watchers: FSWatcher[] = [...new Set(files.map((file) => dirname(resolve(file))))].map((dir) =>
    watch(dir, (_event, name) => {
      if (name !== null && !names.has(name) && name !== '..data') return;
      clearTimeout(timer);
      timer = setTimeout(() => void reload(), DEBOUNCE_MS);
    }),
  );
  return () => {
    clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
  };
}
