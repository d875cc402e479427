import type { Namespace } from '../../oci/name.ts';
import { isTag, type Tag } from '../../oci/tag.ts';
import { LOOKUP_CONCURRENCY, mapLimited } from '../map-limited.ts';
import type { ReadView } from './read-view.ts';
import type { TagWinner } from './records.ts';


/**
 * The live tags of a namespace through a view's own tag winners and revision lookups (docs/storage.md, "Tags"):
 * the winner is a `set` and its revision still exists. A cursor that is not a tag cannot be a storage bound, so
 * the listing then starts at the beginning and compares.
 */
export async function liveTagsOf(view: Pick<ReadView, 'tagWinners' | 'revisions'>, ns: Namespace, after: string | undefined, limit: number): Promise<Tag[]> {
  const revision = await view.revisions(ns);
  const candidates = afterCursor(view.tagWinners(ns, after !== undefined && isTag(after) ? after : undefined), after);
  const live = await takeMatching(candidates, limit, (batch) =>
    mapLimited(batch, LOOKUP_CONCURRENCY, async ({ winner }) => winner.action === 'set' && (await revision(winner.digest)) !== undefined),
  );
  return live.map(({ tag }) => tag);
}

async function* afterCursor(winners: AsyncIterable<TagWinner>, after: string | undefined): AsyncGenerator<TagWinner> {
  for await (const winner of winners) if (after === undefined || winner.tag > after) yield winner;
}

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
