import type { Digest } from '../../oci/digest.ts';
import type { Descriptor } from '../../oci/manifest.ts';
import type { Namespace } from '../../oci/name.ts';
import type { Tag } from '../../oci/tag.ts';
import type { TagEvent } from '../keys.ts';
import type { RevisionRecord, TagWinner } from './records.ts';

/** Revision lookups in one namespace. */
export type RevisionLookup = (digest: Digest) => Promise<RevisionRecord | undefined>;

/**
 * What the domain reads from the metadata store (and manifest bodies from the blob store), in one of two views
 * of the read layer (docs/architecture.md, "The read layer"): the *cached* view may reuse earlier answers (the
 * filesystem's change-stamp memo, the S3 link cache); the *fresh* view answers from storage (on a filesystem the
 * memo is exact, so both views are the same object). Write paths and access checks are handed the fresh view.
 */
export interface ReadView {
  /** The winning event of one tag, `set` or `del`: the newest event group, highest digest, `set` beating `del` on a tie. */
  tagWinner(ns: Namespace, tag: Tag): Promise<TagEvent | undefined>;
  /** The winning events of several tags at once: one listing or snapshot for all of them, not one per tag. */
  tagWinnersOf(ns: Namespace, tags: readonly Tag[]): Promise<Map<Tag, TagEvent | undefined>>;
  /** Every tag ever written in the namespace, strictly after `after` when given, ascending, with its winner. */
  tagWinners(ns: Namespace, after?: Tag): AsyncIterable<TagWinner>;
  /**
   * Live tags strictly after `after` (any string, compared byte-wise), ascending, at most `limit`: tags whose
   * winner is a `set` whose revision still exists.
   */
  liveTags(ns: Namespace, after: string | undefined, limit: number): Promise<Tag[]>;
  /** Lookups of revision records in one namespace, sharing one freshness check (listings test many digests). */
  revisions(ns: Namespace): Promise<RevisionLookup>;
  /** Every digest with a revision record in the namespace, ascending. */
  revisionDigests(ns: Namespace): Promise<Digest[]>;
  /** Per namespace, whether it holds any revision record (the catalog's content check). */
  holdsRevisions(namespaces: readonly Namespace[]): Promise<boolean[]>;
  /** The descriptors of the referrer records naming `subject`, in key order. */
  referrers(ns: Namespace, subject: Digest): Promise<Descriptor[]>;
  /**
   * Up to `limit` namespaces with a catalog key, ascending, from `from` on (inclusive) when given; fewer only at the
   * end. Whether they hold content is not checked.
   */
  cataloguedPage(from: Namespace | undefined, limit: number): Promise<Namespace[]>;
  /**
   * A manifest's stored bytes. Content-addressed bytes never change, so every view may keep them; callers read
   * them only after a revision check proved them live. Throws `NotFoundError` when absent.
   */
  manifestBody(digest: Digest): Promise<Buffer>;
}
