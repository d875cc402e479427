// `[auth.webhook.<name>]` (docs/configuration.md): authorization webhooks. Only the document is
// checked here; the certificate and CA files are read when the webhook client is built.
import { ConfigValueError, type TableReader } from './table-reader.ts';
import type { AuthorizationWebhookConfig, WebhookCredentials } from './types.ts';

// RFC 9110 `token`: what a header field name may be made of.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Headers that describe the connection to the webhook rather than the client's request: forwarding them would
// corrupt the webhook call itself.
const CONNECTION_HEADERS = new Set([
  'host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'content-length', 'te', 'trailer', 'upgrade', 'expect',
]);

/** `[auth.webhook]`, each entry a table named by its key. */
export function readAuthorizationWebhooks(section: TableReader | undefined): AuthorizationWebhookConfig[] {
  if (section === undefined) return [];
  const webhooks = section.keys().map((name) => readWebhook(name, section.table(name)!));
  section.finish();
  return webhooks;
}

function readWebhook(name: string, entry: TableReader): AuthorizationWebhookConfig {
  const url = entry.requiredString('url');
  if (!URL.canParse(url) || !['http:', 'https:'].includes(new URL(url).protocol)) {
    entry.fail('url', `expected an absolute http(s) URL, got '${url}'`);
  }
  const timeoutMs = entry.integer('timeout_ms', { min: 1 }) ?? entry.missing('timeout_ms');
  const clientCertificateBundle = entry.string('client_certificate_bundle');
  const clientPrivateKey = entry.string('client_private_key');
  if ((clientCertificateBundle === undefined) !== (clientPrivateKey === undefined)) {
    throw new ConfigValueError(`${entry.path}: both client_certificate_bundle and client_private_key are required for mTLS`);
  }
  const webhook: AuthorizationWebhookConfig = {
    name,
    url,
    timeoutMs,
    credentials: readCredentials(entry),
    clientCertificateBundle,
    clientPrivateKey,
    serverCaBundle: entry.string('server_ca_bundle'),
    forwardHeaders: readForwardHeaders(entry),
    cacheTtlSecs: entry.integer('cache_ttl', { min: 0 }) ?? 60,
  };
  entry.finish();
  return webhook;
}

/** Bearer token or Basic credentials, never both: which one the webhook would see is otherwise a guess. */
function readCredentials(entry: TableReader): WebhookCredentials | undefined {
  const token = entry.string('bearer_token', { secret: true });
  const basic = entry.table('basic_auth');
  if (token !== undefined && basic !== undefined) {
    throw new ConfigValueError(`${entry.path}: bearer_token and basic_auth cannot both be set; configure one of them`);
  }
  if (token !== undefined) return { kind: 'bearer', token };
  if (basic === undefined) return undefined;
  const credentials: WebhookCredentials = {
    kind: 'basic',
    username: basic.requiredString('username'),
    password: basic.requiredString('password', { secret: true }),
  };
  basic.finish();
  return credentials;
}

/** Lower-cased and deduplicated, so lookups in the client's headers need no further normalising. */
function readForwardHeaders(entry: TableReader): string[] {
  const names = entry.stringArray('forward_headers') ?? [];
  const path = entry.pathOf('forward_headers');
  for (const name of names) {
    if (!HEADER_NAME.test(name)) throw new ConfigValueError(`${path}: invalid forward_headers entry '${name}'`);
    const lower = name.toLowerCase();
    // The registry sets these itself; a client-chosen copy would let callers spoof the context the webhook decides on.
    if (lower.startsWith('x-forwarded-') || lower.startsWith('x-registry-')) {
      throw new ConfigValueError(`${path}: invalid forward_headers entry '${name}': X-Forwarded-* and X-Registry-* headers are set by the registry`);
    }
    if (CONNECTION_HEADERS.has(lower)) {
      throw new ConfigValueError(`${path}: invalid forward_headers entry '${name}': it describes the connection, not the request`);
    }
  }
  return [...new Set(names.map((name) => name.toLowerCase()))];
}
