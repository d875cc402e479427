// One GET of a discovery document or key set (chapter 03 §5.4). Anything but a 2xx answer with a JSON body is
// the provider being unavailable: the caller gets 503 and nothing is cached, so the next request tries again.
import { ProviderUnavailable } from './failures.ts';

const ACCEPT = 'application/jwk-set+json, application/json;q=0.9, */*;q=0.8';

export interface FetchedJson {
  /** The body as received, for the cache. */
  readonly text: string;
  readonly value: unknown;
}

// A burst of requests arriving while the cache is cold (a client pushing layers in parallel) shares one fetch.
const inFlight = new Map<string, Promise<FetchedJson>>();

export function fetchJson(url: string, timeoutSecs: number, authorization?: string): Promise<FetchedJson> {
  const key = `${url}\n${authorization ?? ''}`;
  let pending = inFlight.get(key);
  if (pending === undefined) {
    pending = fetchOnce(url, timeoutSecs, authorization).finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return pending;
}

async function fetchOnce(url: string, timeoutSecs: number, authorization: string | undefined): Promise<FetchedJson> {
  let text: string;
  try {
    const headers: Record<string, string> = { accept: ACCEPT };
    if (authorization !== undefined) headers.authorization = authorization;
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutSecs * 1000) });
    text = await response.text();
    if (!response.ok) throw new ProviderUnavailable(`GET ${url} answered ${response.status}`);
  } catch (error) {
    if (error instanceof ProviderUnavailable) throw error;
    const reason = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${timeoutSecs} s` : String((error as Error)?.cause ?? error);
    throw new ProviderUnavailable(`GET ${url} failed: ${reason}`);
  }
  try {
    return { text, value: JSON.parse(text) as unknown };
  } catch {
    // The body type is not checked (§5.4): only whether it parses.
    throw new ProviderUnavailable(`GET ${url} returned a body that is not JSON`);
  }
}
