import type { LoadOptions } from './load.ts';
import { encodeRequest, RawConnection } from './raw-connection.ts';

export interface ListingLoad {
  /**
   * Page paths a walk may start from: `[0]` is the first page, the others the pages its `Link` headers led to,
   * in order. A walk that ends (no `Link`) starts over at `[0]`.
   */
  starts: readonly string[];
  /**
   * `pages`: each connection starts on a random entry of `starts` and counts every page it gets, so the
   * measurement covers the whole listing rather than its first pages only. `whole`: each connection starts at
   * `[0]` and counts a listing once its last page has come, finishing the listing it is in when time is up.
   */
  count: 'pages' | 'whole';
}

export interface ListingResult {
  requests: number;
  listings: number;
  seconds: number;
  /** Pages per second for `pages`, complete listings per second for `whole`. */
  perSecond: number;
}

/** The path and query of the page a `Link: <url>; rel="next"` header names, or undefined on the last page. */
export function nextPagePath(link: string | undefined, base: URL): string | undefined {
  if (link === undefined) return undefined;
  const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link);
  if (!match) return undefined;
  const url = new URL(match[1]!, base);
  return url.pathname + url.search;
}

/**
 * Clients paging through a listing as a registry client does, following `Link` headers: `connections` closed
 * loops over keep-alive connections, bounded by time and by request count like `measureRate`.
 */
export async function measureListingRate(baseUrl: URL, load: ListingLoad, options: LoadOptions): Promise<ListingResult> {
  const port = Number(baseUrl.port);
  const connections = await Promise.all(Array.from({ length: options.connections }, () => RawConnection.open(baseUrl.hostname, port)));
  const first = load.starts[0]!;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  let requests = 0;
  let listings = 0;
  const loop = async (index: number): Promise<void> => {
    let path = load.count === 'pages' ? load.starts[Math.floor(Math.random() * load.starts.length)]! : first;
    let atStart = true;
    while (requests < options.maxRequests && (load.count === 'pages' || !atStart || performance.now() < deadline)) {
      if (load.count === 'pages' && performance.now() >= deadline) break;
      requests += 1;
      const head = await connections[index]!.send('GET', encodeRequest('GET', baseUrl.host, path, {}));
      if (head.status !== 200) throw new Error(`GET ${path}: expected HTTP 200, got ${head.status}`);
      const next = nextPagePath(head.link, baseUrl);
      atStart = next === undefined;
      if (atStart) listings += 1;
      path = next ?? first;
      if (head.close || !connections[index]!.usable) {
        connections[index]!.close();
        connections[index] = await RawConnection.open(baseUrl.hostname, port);
      }
    }
  };
  try {
    await Promise.all(connections.map((_, index) => loop(index)));
  } finally {
    for (const connection of connections) connection.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return { requests, listings, seconds, perSecond: (load.count === 'pages' ? requests : listings) / seconds };
}
