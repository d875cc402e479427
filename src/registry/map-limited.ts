/** `fn` over every item, at most `concurrency` calls in flight; results in the items' order. */
export async function mapLimited<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** Storage round trips for many items (catalog namespaces, tag revisions) run this many at a time. */
export const LOOKUP_CONCURRENCY = 16;
