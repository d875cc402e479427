// One GET of a discovery document or key set. Anything but a 2xx answer with a JSON body is the provider being
// unavailable: the caller gets 503 and nothing is cached, so the next request tries again.
import type { Agent as HttpsAgent } from 'node:https';
import type { OidcProviderConfig } from '../../config/types.ts';
import { tlsClientAgent } from '../tls-client.ts';
import { issuerAuthorization } from './bearer-token-file.ts';
import { ProviderUnavailable } from './failures.ts';
import { httpGet } from './http-get.ts';

const ACCEPT = 'application/jwk-set+json, application/json;q=0.9, */*;q=0.8';
// Real key sets and discovery documents are a few kilobytes; the cap only stops a hostile or broken endpoint.
const MAX_DOCUMENT_BYTES = 1024 * 1024;

export interface FetchedJson {
  /** The body as received, for the cache. */
  readonly text: string;
  readonly value: unknown;
}

/**
 * The HTTPS pool of one provider, with its `server_ca_bundle` and client certificate. Built for every provider
 * at start-up, so an unreadable file stops the server instead of turning every token into a 503.
 */
export function providerAgent(provider: OidcProviderConfig): Promise<HttpsAgent> {
  return tlsClientAgent(provider, `auth.oidc.${provider.name}`);
}

// A burst of requests arriving while the cache is cold (a client pushing layers in parallel) shares one fetch.
// Per provider, since two providers may reach the same URL with different TLS settings.
const inFlight = new WeakMap<OidcProviderConfig, Map<string, Promise<FetchedJson>>>();

export async function fetchJson(provider: OidcProviderConfig, url: string, timeoutSecs: number): Promise<FetchedJson> {
  const authorization = await issuerAuthorization(provider, url);
  let pending = inFlight.get(provider);
  if (pending === undefined) inFlight.set(provider, (pending = new Map()));
  const key = `${url}\n${authorization ?? ''}`;
  let fetch = pending.get(key);
  if (fetch === undefined) {
    fetch = fetchOnce(provider, url, timeoutSecs, authorization).finally(() => pending.delete(key));
    pending.set(key, fetch);
  }
  return fetch;
}

async function fetchOnce(provider: OidcProviderConfig, url: string, timeoutSecs: number, authorization: string | undefined): Promise<FetchedJson> {
  let answer: Awaited<ReturnType<typeof httpGet>>;
  try {
    const tlsAgent = await providerAgent(provider);
    answer = await httpGet(url, { headers: { accept: ACCEPT }, authorization, tlsAgent, timeoutSecs, maxBodyBytes: MAX_DOCUMENT_BYTES });
  } catch (error) {
    throw new ProviderUnavailable(`GET ${url} failed: ${(error as Error).message}`);
  }
  if (answer.status < 200 || answer.status > 299) throw new ProviderUnavailable(`GET ${url} answered ${answer.status}`);
  try {
    return { text: answer.body, value: JSON.parse(answer.body) as unknown };
  } catch {
    // The body's content type is not checked: only whether it parses.
    throw new ProviderUnavailable(`GET ${url} returned a body that is not JSON`);
  }
}
