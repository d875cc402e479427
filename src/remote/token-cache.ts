// Bearer tokens of remote registries in the `[cache]` backend (spec §1.2): per process in memory, or shared by
// replicas through Redis. Two kinds of entries:
//   auth:<host>:realm=<r>:service=<s>:scope=<sc>:<cred>  → `Bearer <token>`, for the token's lifetime
//   auth-index:<host>:<cred>:<request URL>               → the token key last good for that URL
// `<cred>` (`user=<name>` or `anon`) is part of every key so that two identities never share a token. A cache
// failure is a miss (and a failed write is forgotten): the worst outcome is one more 401 and token request.
import type { Cache } from '../cache/cache.ts';
import { logger } from '../observability/logging.ts';
import type { Challenge } from './challenge.ts';

const log = logger('angos::remote::token_cache');

/** The index entry's lifetime when it is written for a token that was already cached. */
export const INDEX_TTL_ON_HIT_SECS = 3600;

/** `user=<username>` or `anon`. */
export function credentialTag(username: string | undefined): string {
  return username === undefined ? 'anon' : `user=${username}`;
}

/** Where the token answering `challenge` for `cred` on `host` (`host[:port]` of the remote) is kept. */
export function tokenKey(host: string, challenge: Challenge, cred: string): string {
  const param = (name: string) => challenge.params.get(name) ?? '';
  return `auth:${host}:realm=${param('realm')}:service=${param('service')}:scope=${param('scope')}:${cred}`;
}

/** Where the token key last good for `url` is kept. */
export function indexKey(host: string, cred: string, url: string): string {
  return `auth-index:${host}:${cred}:${url}`;
}

/** The entries of one remote client (one host, one identity). */
export class TokenCache {
  readonly #cache: Cache;
  readonly #host: string;
  readonly #cred: string;

  constructor(cache: Cache, host: string, cred: string) {
    this.#cache = cache;
    this.#host = host;
    this.#cred = cred;
  }

  keyFor(challenge: Challenge): string {
    return tokenKey(this.#host, challenge, this.#cred);
  }

  /** The `Authorization` value cached for `url`, through its index entry. */
  async forUrl(url: string): Promise<string | undefined> {
    const key = await this.#get(indexKey(this.#host, this.#cred, url));
    return key === undefined ? undefined : this.#get(key);
  }

  /** The cached value under a token key. */
  token(key: string): Promise<string | undefined> {
    return this.#get(key);
  }

  /** Remembers a fresh token and that it is good for `url`. */
  async store(url: string, key: string, authorization: string, ttlSecs: number): Promise<void> {
    await this.#set(key, authorization, ttlSecs);
    await this.#set(indexKey(this.#host, this.#cred, url), key, ttlSecs);
  }

  /** Points `url` at an already cached token. */
  async index(url: string, key: string): Promise<void> {
    await this.#set(indexKey(this.#host, this.#cred, url), key, INDEX_TTL_ON_HIT_SECS);
  }

  async #get(key: string): Promise<string | undefined> {
    try {
      return await this.#cache.get(key);
    } catch (error) {
      log.debug('token cache read failed; treated as a miss', { error: String(error) });
      return undefined;
    }
  }

  async #set(key: string, value: string, ttlSecs: number): Promise<void> {
    try {
      await this.#cache.set(key, value, Math.max(1, Math.floor(ttlSecs)));
    } catch (error) {
      log.debug('token cache write failed; the token is not remembered', { error: String(error) });
    }
  }
}
