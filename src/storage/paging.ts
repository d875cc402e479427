import type { ListPage } from './object-store.ts';

const DEFAULT_LIST_LIMIT = 1000;

/** The page size of a listing call: the default, or a positive integer. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIST_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`list limit must be a positive integer, got ${limit}`);
  return limit;
}

/** One page of keys from an ascending stream; reading one key beyond the page tells whether `next` is needed. */
export async function collectPage(keys: AsyncIterable<string>, limit: number): Promise<ListPage> {
  const page: string[] = [];
  for await (const key of keys) {
    page.push(key);
    if (page.length > limit) break;
  }
  if (page.length <= limit) return { keys: page };
  page.length = limit;
  return { keys: page, next: page[limit - 1]! };
}
