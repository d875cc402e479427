import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Cache } from '../cache/cache.ts';
import { MemoryCache } from '../cache/memory-cache.ts';
import { parseTokenAnswer } from './auth.ts';
import { parseChallenges } from './challenge.ts';
import { credentialTag, indexKey, TokenCache, tokenKey } from './token-cache.ts';

const bearer = parseChallenges('Bearer realm="https://auth/token",service="reg",scope="repository:a:pull"')[0]!;

class RecordingCache extends MemoryCache {
  readonly writes: Array<[string, string, number]> = [];
  override async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.writes.push([key, value, ttlSeconds]);
    await super.set(key, value, ttlSeconds);
  }
}

const broken: Cache = {
  get: () => Promise.reject(new Error('down')),
  set: () => Promise.reject(new Error('down')),
  delete: () => Promise.reject(new Error('down')),
  close: () => Promise.resolve(),
};

describe('token cache keys (spec §1.2)', () => {
  it('names host, realm, service, scope and identity', () => {
    assert.equal(credentialTag(undefined), 'anon');
    assert.equal(credentialTag('alice'), 'user=alice');
    assert.equal(tokenKey('reg:5000', bearer, 'user=alice'), 'auth:reg:5000:realm=https://auth/token:service=reg:scope=repository:a:pull:user=alice');
    assert.equal(tokenKey('reg', parseChallenges('Bearer realm="https://auth/token"')[0]!, 'anon'), 'auth:reg:realm=https://auth/token:service=:scope=:anon');
    assert.equal(indexKey('reg', 'anon', 'https://reg/v2/a/manifests/1'), 'auth-index:reg:anon:https://reg/v2/a/manifests/1');
  });

  it('stores the token for its lifetime and the URL index beside it; an index written on a hit lives an hour', async () => {
    const cache = new RecordingCache();
    const tokens = new TokenCache(cache, 'reg', 'anon');
    const key = tokens.keyFor(bearer);
    await tokens.store('https://reg/v2/a/manifests/1', key, 'Bearer t', 300.7);
    await tokens.index('https://reg/v2/a/blobs/x', key);
    assert.deepEqual(cache.writes, [
      [key, 'Bearer t', 300],
      ['auth-index:reg:anon:https://reg/v2/a/manifests/1', key, 300],
      ['auth-index:reg:anon:https://reg/v2/a/blobs/x', key, 3600],
    ]);
    assert.equal(await tokens.forUrl('https://reg/v2/a/blobs/x'), 'Bearer t');
    assert.equal(await tokens.forUrl('https://reg/v2/a/blobs/y'), undefined);
  });

  it('identities never see each other’s entries', async () => {
    const cache = new MemoryCache();
    const alice = new TokenCache(cache, 'reg', credentialTag('alice'));
    const bob = new TokenCache(cache, 'reg', credentialTag('bob'));
    await alice.store('https://reg/v2/a/manifests/1', alice.keyFor(bearer), 'Bearer a', 60);
    assert.equal(await bob.forUrl('https://reg/v2/a/manifests/1'), undefined);
    assert.equal(await bob.token(bob.keyFor(bearer)), undefined);
  });

  it('a failing cache is a miss, and writes to it are dropped', async () => {
    const tokens = new TokenCache(broken, 'reg', 'anon');
    await tokens.store('https://reg/v2/a/manifests/1', tokens.keyFor(bearer), 'Bearer t', 60);
    assert.equal(await tokens.forUrl('https://reg/v2/a/manifests/1'), undefined);
  });
});

describe('token answers', () => {
  it('token, else access_token; expires_in, else 60 s', () => {
    assert.deepEqual(parseTokenAnswer('{"token":"a","access_token":"b","expires_in":300}'), { token: 'a', lifetimeSecs: 300 });
    assert.deepEqual(parseTokenAnswer('{"access_token":"b"}'), { token: 'b', lifetimeSecs: 60 });
    assert.deepEqual(parseTokenAnswer('{"token":"","access_token":"b","expires_in":-1}'), { token: 'b', lifetimeSecs: 60 });
  });

  it('no usable token: no answer', () => {
    for (const text of ['', 'null', '[]', '{}', '{"token":5}', '{"token":"a b"}', '{"token":"a\\r\\nX: y"}']) assert.equal(parseTokenAnswer(text), undefined, text);
  });
});
