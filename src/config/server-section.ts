// `[server]` and `[server.tls]` (docs/configuration.md).
import { isIP } from 'node:net';
import { ConfigValueError, type TableReader } from './table-reader.ts';
import type { ServerConfig, TlsConfig } from './types.ts';

function readTls(tls: TableReader): TlsConfig {
  // An incomplete TLS section is an error, never a silent plaintext fallback.
  const serverCertificateBundle = tls.requiredString('server_certificate_bundle');
  const serverPrivateKey = tls.requiredString('server_private_key');
  const clientCaBundle = tls.string('client_ca_bundle');
  const clientAuth = tls.string('client_auth') ?? 'optional';
  if (clientAuth !== 'optional' && clientAuth !== 'required') {
    tls.fail('client_auth', `expected 'optional' or 'required', got '${clientAuth}'`);
  }
  if (clientAuth === 'required' && clientCaBundle === undefined) {
    throw new ConfigValueError(`${tls.pathOf('client_auth')}: client_auth = "required" requires client_ca_bundle to be set`);
  }
  tls.finish();
  return { serverCertificateBundle, serverPrivateKey, clientCaBundle, clientAuth };
}

export function readServer(root: TableReader): ServerConfig {
  const server = root.table('server') ?? root.missing('server');
  const bindAddress = server.requiredString('bind_address');
  if (isIP(bindAddress) === 0) server.fail('bind_address', `'${bindAddress}' is not an IP address (host names are not accepted)`);
  const config: ServerConfig = {
    bindAddress,
    port: server.integer('port', { min: 0, max: 65535 }) ?? 8000,
    queryTimeoutSecs: server.integer('query_timeout', { min: 1 }) ?? 3600,
    queryTimeoutGracePeriodSecs: server.integer('query_timeout_grace_period', { min: 1 }) ?? 60,
    handshakeTimeoutSecs: server.integer('handshake_timeout', { min: 1 }) ?? 10,
    tls: undefined,
  };
  const tls = server.table('tls');
  server.finish();
  return tls === undefined ? config : { ...config, tls: readTls(tls) };
}
