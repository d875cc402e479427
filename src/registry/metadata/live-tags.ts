import type { Namespace } from '../../oci/name.ts';
import { isTag, type Tag } from '../../oci/tag.ts';
import { LOOKUP_CONCURRENCY, mapLimited } from '../map-limited.ts';
import { takeMatching } from '../take-matching.ts';
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
