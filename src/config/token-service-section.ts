// `[auth.token_service]` (docs/configuration.md). The key is a secret: errors describe it, never quote it.
import type { TableReader } from './table-reader.ts';
import type { TokenServiceConfig } from './types.ts';

const MIN_KEY_BYTES = 32;

function readSecretKey(section: TableReader): string {
  const secretKey = section.requiredString('secret_key', { secret: true });
  // Only the canonical padded form: Node's decoder silently skips stray characters, which would shorten a key.
  if (secretKey === '' || Buffer.from(secretKey, 'base64').toString('base64') !== secretKey) {
    section.fail('secret_key', 'must be standard (padded) base64');
  }
  const length = Buffer.from(secretKey, 'base64').length;
  if (length < MIN_KEY_BYTES) section.fail('secret_key', `must decode to at least ${MIN_KEY_BYTES} bytes, got ${length}`);
  return secretKey;
}

function readRealm(section: TableReader): TokenServiceConfig['realm'] {
  const realm = section.string('realm');
  if (realm === undefined) return undefined;
  const url = URL.canParse(realm) ? new URL(realm) : undefined;
  // A realm may carry userinfo that is not ours to print.
  const shown = url !== undefined && (url.username !== '' || url.password !== '') ? 'a URL with credentials' : JSON.stringify(realm);
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.host === '') {
    section.fail('realm', `must be an absolute http(s) URL, got ${shown}`);
  }
  if (!url.pathname.endsWith('/token')) section.fail('realm', `the URL path must end with '/token', got ${shown}`);
  // Advertised in the 401 challenge without userinfo, query or fragment (docs/api.md, "Request processing").
  return { url: `${url.protocol}//${url.host}${url.pathname}`, service: url.host };
}

export function readTokenService(section: TableReader | undefined): TokenServiceConfig | undefined {
  if (section === undefined) return undefined;
  const secretKey = readSecretKey(section);
  const result: TokenServiceConfig = {
    secretKey,
    realm: readRealm(section),
    ttlSecs: section.integer('ttl_secs', { min: 1, max: 86400 }) ?? 3600,
  };
  section.finish();
  return result;
}
