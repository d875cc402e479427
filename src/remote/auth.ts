// The 401 dance of one remote client (spec §1.2). `initial` gives the header to send first; after a 401,
// `answer` gives the one to resend with, once. Answers are worked out one at a time per client (the mutex): a
// burst of requests that all hit 401 fetches one token, the others find it cached.
import { logger } from '../observability/logging.ts';
import { readLimited } from './body.ts';
import { chooseChallenge, tokenUrl, type Challenge } from './challenge.ts';
import { RemoteError } from './remote-error.ts';
import type { TokenCache } from './token-cache.ts';
import { drain, headerValue, shown, type Transport } from './transport.ts';

const log = logger('angos::remote::auth');

/** A token answer is small JSON; more is not a token service. */
const MAX_TOKEN_ANSWER = 1024 * 1024;
const DEFAULT_TOKEN_LIFETIME_SECS = 60;

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export class Authenticator {
  readonly #transport: Transport;
  readonly #tokens: TokenCache;
  readonly #basic: string | undefined;
  /** The remote asked for Basic once: send it up front from then on (it is this client's own credential). */
  #preferBasic = false;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(transport: Transport, tokens: TokenCache, credentials: Credentials | undefined) {
    this.#transport = transport;
    this.#tokens = tokens;
    this.#basic = credentials === undefined ? undefined : `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
  }

  /** The `Authorization` to send first for `url`: Basic once the remote asked for it, else the cached token for that URL, else none. */
  initial(url: URL): Promise<string | undefined> {
    if (this.#preferBasic) return Promise.resolve(this.#basic);
    return this.#tokens.forUrl(url.href);
  }

  /**
   * The value to resend with after `url` answered 401 to `sent` with `wwwAuthenticate`. Throws a RemoteError
   * (status 401) when the challenge cannot be answered.
   */
  answer(url: URL, sent: string | undefined, wwwAuthenticate: string | string[] | undefined): Promise<string> {
    const turn = this.#queue.then(() => this.#answer(url, sent, wwwAuthenticate));
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  async #answer(url: URL, sent: string | undefined, wwwAuthenticate: string | string[] | undefined): Promise<string> {
    // Another request may have fetched a token for this URL while this one waited for its turn.
    const cached = await this.#tokens.forUrl(url.href);
    if (cached !== undefined && cached !== sent) return cached;
    const challenge = chooseChallenge(wwwAuthenticate);
    const context = `${shown(url)} answered 401`;
    if (challenge === undefined) throw new RemoteError(`${context} without WWW-Authenticate`, { status: 401 });
    if (challenge.scheme === 'basic') {
      if (this.#basic === undefined) throw new RemoteError(`${context} asking for Basic credentials, and none are configured`, { status: 401 });
      this.#preferBasic = true;
      return this.#basic;
    }
    if (challenge.scheme !== 'bearer') throw new RemoteError(`${context} with an unsupported scheme '${challenge.scheme}'`, { status: 401 });
    const key = this.#tokens.keyFor(challenge);
    const known = await this.#tokens.token(key);
    if (known !== undefined && known !== sent) {
      await this.#tokens.index(url.href, key);
      return known;
    }
    const { authorization, lifetimeSecs } = await this.#fetchToken(challenge, context);
    await this.#tokens.store(url.href, key, authorization, lifetimeSecs);
    return authorization;
  }

  /** `GET <realm>?service=…&scope=…` with Basic credentials when configured. */
  async #fetchToken(challenge: Challenge, context: string): Promise<{ authorization: string; lifetimeSecs: number }> {
    let url: URL;
    try {
      url = tokenUrl(challenge);
    } catch (error) {
      throw new RemoteError(`${context}: ${(error as Error).message}`, { status: 401 });
    }
    const incoming = await this.#transport.send({ method: 'GET', url, headers: { accept: 'application/json' }, authorization: this.#basic });
    if (incoming.status < 200 || incoming.status > 299) {
      await drain(incoming);
      throw new RemoteError(`${context}; the token request to ${shown(url)} answered ${incoming.status}`, { status: 401 });
    }
    const text = (await readLimited(incoming.body, MAX_TOKEN_ANSWER, `token answer of ${shown(url)}`)).toString('utf8');
    const answer = parseTokenAnswer(text);
    if (answer === undefined) throw new RemoteError(`${context}; the token answer of ${shown(url)} holds no token`, { status: 401 });
    log.debug('remote token fetched', { realm: shown(url), lifetime_secs: answer.lifetimeSecs, content_type: headerValue(incoming.headers, 'content-type') });
    return { authorization: `Bearer ${answer.token}`, lifetimeSecs: answer.lifetimeSecs };
  }
}

/** `token`, else `access_token`; lifetime `expires_in` (seconds, default 60). */
export function parseTokenAnswer(text: string): { token: string; lifetimeSecs: number } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const { token, access_token: accessToken, expires_in: expiresIn } = json as Record<string, unknown>;
  const chosen = typeof token === 'string' && token !== '' ? token : typeof accessToken === 'string' && accessToken !== '' ? accessToken : undefined;
  // A token goes into a header: nothing that could end it or start another.
  if (chosen === undefined || !/^[\x21-\x7e]+$/.test(chosen)) return undefined;
  const lifetimeSecs = typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : DEFAULT_TOKEN_LIFETIME_SECS;
  return { token: chosen, lifetimeSecs };
}
