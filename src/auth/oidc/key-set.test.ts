import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Cache } from '../../cache/cache.ts';
import { MemoryCache } from '../../cache/memory-cache.ts';
import type { OidcProviderConfig } from '../../config/types.ts';
import { ProviderUnavailable, TokenRejected } from './failures.ts';
import { findSigningKey } from './key-set.ts';

// A real issuer on loopback whose answers each test sets; every request is counted by path.
let server: Server;
let base: string;
let answer: { status: number; body: string; hang?: boolean } = { status: 200, body: '{}' };
const hits = new Map<string, number>();

const rsa = (kid?: string) => ({ kty: 'RSA', ...(kid === undefined ? {} : { kid }), n: `n-${kid ?? 'none'}`, e: 'AQAB', use: 'sig', alg: 'RS256' });

before(async () => {
  server = createServer((req, res) => {
    hits.set(req.url ?? '', (hits.get(req.url ?? '') ?? 0) + 1);
    if (req.url === '/.well-known/openid-configuration') {
      res.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/keys` }));
      return;
    }
    if (answer.hang) return;
    res.statusCode = answer.status;
    res.end(answer.body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

function provider(overrides: Partial<OidcProviderConfig> = {}): OidcProviderConfig {
  return {
    name: 'ci', provider: 'generic', providerType: 'Generic OIDC', issuer: base, jwksUri: undefined, jwksRefreshIntervalSecs: 3600,
    requiredAudience: undefined, clockSkewToleranceSecs: 60, allowedAlgorithms: ['RS256'], requiredClaims: [],
    httpRequestTimeoutSecs: 30, jwksRefreshTimeoutSecs: 5, bearerTokenFile: undefined,
    serverCaBundle: undefined, clientCertificateBundle: undefined, clientPrivateKey: undefined, ...overrides,
  };
}

function serveKeys(...keys: unknown[]): void {
  answer = { status: 200, body: JSON.stringify({ keys }) };
}

const fetches = () => hits.get('/keys') ?? 0;

test('keys are discovered, fetched once and then served from the cache, reduced to their public members', async () => {
  serveKeys({ kty: 'oct', kid: 'k1', k: 'AAAA' }, rsa('k1'), rsa());
  const cache = new MemoryCache();
  const before = fetches();
  const discoveries = hits.get('/.well-known/openid-configuration') ?? 0;
  // An unusable key type with the same kid is skipped, not fatal; `use`/`alg` are dropped.
  assert.deepEqual(await findSigningKey(provider(), 'k1', cache), { kty: 'RSA', n: 'n-k1', e: 'AQAB' });
  assert.deepEqual(await findSigningKey(provider(), undefined, cache), { kty: 'RSA', n: 'n-none', e: 'AQAB' }, 'no kid matches only a key without one');
  assert.equal(fetches(), before + 1);
  assert.equal(hits.get('/.well-known/openid-configuration'), discoveries + 1);
});

test('a kid missing from a fresh fetch is refused without a second fetch', async () => {
  serveKeys(rsa('k1'));
  const before = fetches();
  await assert.rejects(findSigningKey(provider(), 'k9', new MemoryCache()), TokenRejected);
  assert.equal(fetches(), before + 1);
});

test('a failing cache is a miss: keys are still found, fetched each time', async () => {
  serveKeys(rsa('k1'));
  const broken: Cache = {
    get: () => Promise.reject(new Error('down')),
    set: () => Promise.reject(new Error('down')),
    delete: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  const before = fetches();
  await findSigningKey(provider({ jwksUri: `${base}/keys` }), 'k1', broken);
  await findSigningKey(provider({ jwksUri: `${base}/keys` }), 'k1', broken);
  assert.equal(fetches(), before + 2);
});

test('an unreadable cache entry is refetched rather than failing the request', async () => {
  serveKeys(rsa('k1'));
  const inner = new MemoryCache();
  const written: string[] = [];
  const cache: Cache = {
    get: (key) => inner.get(key),
    set: (key, value, ttl) => {
      written.push(key);
      return inner.set(key, value, ttl);
    },
    delete: (key) => inner.delete(key),
    close: () => inner.close(),
  };
  await findSigningKey(provider({ jwksUri: `${base}/keys` }), 'k1', cache);
  assert.ok(written.length > 0);
  for (const key of written) await inner.set(key, 'not json', 60);
  const before = fetches();
  assert.deepEqual(await findSigningKey(provider({ jwksUri: `${base}/keys` }), 'k1', cache), { kty: 'RSA', n: 'n-k1', e: 'AQAB' });
  assert.equal(fetches(), before + 1);
});

test('non-2xx, non-JSON, not a key set and no answer in time are the provider being unavailable; nothing is cached', async () => {
  const cache = new MemoryCache();
  const target = provider({ jwksUri: `${base}/keys`, httpRequestTimeoutSecs: 1 });
  for (const failing of [{ status: 500, body: '{}' }, { status: 200, body: 'not json' }, { status: 200, body: '{"keys":"x"}' }, { status: 200, body: '', hang: true }]) {
    answer = failing;
    await assert.rejects(findSigningKey(target, 'k1', cache), ProviderUnavailable, JSON.stringify(failing));
  }
  serveKeys(rsa('k1'));
  const before = fetches();
  await findSigningKey(target, 'k1', cache);
  assert.equal(fetches(), before + 1, 'the failures left nothing cached');
});

test('a discovery document naming another issuer is a refusal, not an outage', async () => {
  await assert.rejects(findSigningKey(provider({ issuer: `${base}/` }), 'k1', new MemoryCache()), (error: unknown) => {
    // The trailing `/` is dropped for the discovery URL, so the document is found, and names `base` instead.
    return error instanceof TokenRejected && /another issuer/.test(error.message);
  });
});

test('concurrent lookups on a cold cache share one fetch', async () => {
  serveKeys(rsa('k1'));
  const cache = new MemoryCache();
  const before = fetches();
  const target = provider({ jwksUri: `${base}/keys` });
  const found = await Promise.all([1, 2, 3, 4].map(() => findSigningKey(target, 'k1', cache)));
  assert.equal(found.length, 4);
  assert.equal(fetches(), before + 1);
});
