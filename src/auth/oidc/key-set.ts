// A provider's signing keys: the discovery document and the JWKS, cached in the registry cache (shared by replicas
// when it is Redis) for `jwks_refresh_interval`, fetched lazily. A token signed with a key the cached set lacks
// (the issuer rotated) forces one refetch, at most once a minute per issuer, so a stream of tokens with made-up
// `kid`s cannot make us hammer the issuer.
import { createHash } from 'node:crypto';
import type { JWK } from 'jose';
import type { Cache } from '../../cache/cache.ts';
import type { OidcProviderConfig } from '../../config/types.ts';
import { logger } from '../../observability/logging.ts';
import { isJsonObject } from '../jwt-json.ts';
import { ProviderUnavailable, TokenRejected } from './failures.ts';
import { fetchJson } from './fetch-json.ts';

const log = logger('angos::auth::oidc');

const FORCED_REFETCH_INTERVAL_SECS = 60;

/** The cache entries of one provider, keyed by an issuer hash (the JWKS URI too, when configured). */
function cacheKeys(provider: OidcProviderConfig): { discovery: string; jwks: string; refetchMarker: string } {
  const hash = createHash('sha256').update(`${provider.issuer}\n${provider.jwksUri ?? ''}`).digest('hex');
  return { discovery: `oidc:discovery:${hash}`, jwks: `oidc:jwks:${hash}`, refetchMarker: `oidc:jwks-refetch:${hash}` };
}

// The cache is an optimization: a failing read is a miss and a failing write is only logged.
async function cacheGet(cache: Cache, key: string): Promise<string | undefined> {
  try {
    return await cache.get(key);
  } catch (error) {
    log.warn('cache read failed', { key, error: String(error) });
    return undefined;
  }
}

/** A cached document, or undefined when absent or unreadable (a foreign or truncated entry is refetched). */
async function cachedJson(cache: Cache, key: string): Promise<Record<string, unknown> | undefined> {
  const text = await cacheGet(cache, key);
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

async function cacheSet(cache: Cache, key: string, value: string, ttlSecs: number): Promise<void> {
  try {
    await cache.set(key, value, ttlSecs);
  } catch (error) {
    log.warn('cache write failed', { key, error: String(error) });
  }
}

/** `<issuer>/.well-known/openid-configuration`, one trailing `/` of the issuer dropped so no `//` appears. */
function discoveryUrl(issuer: string): string {
  return `${issuer.endsWith('/') ? issuer.slice(0, -1) : issuer}/.well-known/openid-configuration`;
}

async function jwksUriOf(provider: OidcProviderConfig, cache: Cache): Promise<string> {
  if (provider.jwksUri !== undefined) return provider.jwksUri;
  const key = cacheKeys(provider).discovery;
  const cached = await cachedJson(cache, key);
  if (typeof cached?.jwks_uri === 'string') return cached.jwks_uri;
  const url = discoveryUrl(provider.issuer);
  const { value } = await fetchJson(provider, url, provider.httpRequestTimeoutSecs);
  if (!isJsonObject(value)) throw new ProviderUnavailable(`${url} is not a JSON object`);
  // A document for another issuer is a misconfiguration or an impersonation, not an outage: refuse, keep nothing.
  if (value.issuer !== provider.issuer) throw new TokenRejected('the discovery document names another issuer');
  const jwksUri = value.jwks_uri;
  if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri)) throw new ProviderUnavailable(`${url} has no usable jwks_uri`);
  await cacheSet(cache, key, JSON.stringify({ issuer: value.issuer, jwks_uri: jwksUri }), provider.jwksRefreshIntervalSecs);
  return jwksUri;
}

async function fetchKeys(provider: OidcProviderConfig, url: string, timeoutSecs: number): Promise<{ text: string; keys: readonly unknown[] }> {
  const { text, value } = await fetchJson(provider, url, timeoutSecs);
  if (!isJsonObject(value) || !Array.isArray(value.keys)) throw new ProviderUnavailable(`${url} is not a JWK set`);
  return { text, keys: value.keys };
}

/** The JWK for `kid` (a token without one matches only a key without one), reduced to its public members. */
function select(keys: readonly unknown[], kid: string | undefined): JWK | undefined {
  for (const key of keys) {
    if (!isJsonObject(key) || key.kid !== kid) continue;
    // `use`, `alg` and `key_ops` are ignored; key types we cannot use are skipped, not fatal to the set.
    if (key.kty === 'RSA' && typeof key.n === 'string' && typeof key.e === 'string') return { kty: 'RSA', n: key.n, e: key.e };
    if (key.kty === 'EC' && (key.crv === 'P-256' || key.crv === 'P-384') && typeof key.x === 'string' && typeof key.y === 'string') {
      return { kty: 'EC', crv: key.crv, x: key.x, y: key.y };
    }
    if (key.kty === 'OKP' && key.crv === 'Ed25519' && typeof key.x === 'string') return { kty: 'OKP', crv: key.crv, x: key.x };
  }
  return undefined;
}

/**
 * The verification key for a token's `kid`. Throws `TokenRejected` when the provider has no such key and
 * `ProviderUnavailable` when its documents cannot be fetched.
 */
export async function findSigningKey(provider: OidcProviderConfig, kid: string | undefined, cache: Cache): Promise<JWK> {
  const keys = cacheKeys(provider);
  const jwksUri = await jwksUriOf(provider, cache);
  const cached = await cachedJson(cache, keys.jwks);
  if (!Array.isArray(cached?.keys)) {
    const fetched = await fetchKeys(provider, jwksUri, provider.httpRequestTimeoutSecs);
    await cacheSet(cache, keys.jwks, fetched.text, provider.jwksRefreshIntervalSecs);
    return select(fetched.keys, kid) ?? rejectUnknownKid();
  }
  const found = select(cached.keys as unknown[], kid);
  if (found !== undefined) return found;
  if ((await cacheGet(cache, keys.refetchMarker)) !== undefined) return rejectUnknownKid();
  // The marker goes in before the fetch so concurrent misses (and other replicas, with Redis) do not all refetch.
  await cacheSet(cache, keys.refetchMarker, '1', FORCED_REFETCH_INTERVAL_SECS);
  log.debug('token key not in the cached key set: refetching', { provider: provider.name });
  const fetched = await fetchKeys(provider, jwksUri, provider.jwksRefreshTimeoutSecs);
  await cacheSet(cache, keys.jwks, fetched.text, provider.jwksRefreshIntervalSecs);
  return select(fetched.keys, kid) ?? rejectUnknownKid();
}

function rejectUnknownKid(): never {
  throw new TokenRejected('no key of the provider matches the token kid');
}
