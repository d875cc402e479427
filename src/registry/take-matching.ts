/**
 * Up to `limit` items of an ascending stream that pass `test`, tested in batches no larger than what is still
 * wanted, so a page costs in proportion to the page (plus the items that fail the test), not to the stream.
 */
export async function takeMatching<T>(source: AsyncIterable<T>, limit: number, test: (batch: readonly T[]) => Promise<boolean[]>): Promise<T[]> {
  const taken: T[] = [];
  if (limit <= 0) return taken;
  let batch: T[] = [];
  const flush = async (): Promise<void> => {
    const passed = await test(batch);
    for (const [index, item] of batch.entries()) if (passed[index] && taken.length < limit) taken.push(item);
    batch = [];
  };
  for await (const item of source) {
    batch.push(item);
    if (batch.length >= limit - taken.length) await flush();
    if (taken.length === limit) return taken;
  }
  if (batch.length > 0) await flush();
  return taken;
}
