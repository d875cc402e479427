import { createHash } from 'node:crypto';
import type { Digest } from '../oci/digest.ts';
import type { Namespace } from '../oci/name.ts';
import type { Tag } from '../oci/tag.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { RegistryError } from './errors.ts';
import { listAll, readJson } from './json-record.ts';
import { claimKeys, type TagEvent } from './keys.ts';

/** A claim older than this whose tag is still in the claimed state belongs to a push that died: it may be taken over. */
const STALE_CLAIM_MS = 10 * 60 * 1000;

interface Claim {
  digest: Digest;
  claimed_at: string;
}

/**
 * The write-once step of an immutable tag (docs/storage.md, "Immutable tags"). Checking that the tag is absent and
 * then writing it is two steps, so racing first pushes of different manifests could all pass the check; instead
 * each claims the tag's current state with an atomic create, and only the claim's digest may be written. A push of
 * the same digest goes through; any other is `immutable-tag`. Once the winner's tag event lands the tag is no longer
 * absent and later pushes are refused by the ordinary check.
 */
export class ImmutableClaims {
  readonly #meta: ObjectStore;

  constructor(meta: ObjectStore) {
    this.#meta = meta;
  }

  /** Claims the first push of `tag` (whose winning event was `state` when read) for `digest`, or throws `immutable-tag`. */
  async claim(ns: Namespace, tag: Tag, state: TagEvent | undefined, digest: Digest): Promise<void> {
    const stateId = stateIdOf(state);
    for (;;) {
      const current = await this.#latest(ns, tag, stateId);
      if (current?.claim.digest === digest) return;
      if (current && Date.now() - Date.parse(current.claim.claimed_at) < STALE_CLAIM_MS) throw refused(tag);
      const seq = current === undefined ? 0 : current.seq + 1;
      const claim: Claim = { digest, claimed_at: new Date().toISOString() };
      if (await this.#meta.createIfAbsent(claimKeys.claim(ns, tag, stateId, seq), JSON.stringify(claim))) return;
      // Another push claimed this state (or took the stale claim over) first: look again.
    }
  }

  async #latest(ns: Namespace, tag: Tag, stateId: string): Promise<{ seq: number; claim: Claim } | undefined> {
    const keys = await listAll(this.#meta, claimKeys.state(ns, tag, stateId));
    const seqs = keys.map((key) => ({ key, seq: claimKeys.parseSeq(key) })).filter((entry) => entry.seq !== undefined);
    const last = seqs.sort((a, b) => a.seq! - b.seq!).at(-1);
    if (last === undefined) return undefined;
    const claim = await readJson<Claim>(this.#meta, last.key);
    // Created atomically and never rewritten, so a listed claim is whole; gone means scrub removed it.
    return claim === undefined ? undefined : { seq: last.seq!, claim };
  }
}

/** The tag's state as a short name: a hash of its winning event, or of its having none. */
function stateIdOf(state: TagEvent | undefined): string {
  const text = state === undefined ? 'none' : `${state.ord}.${state.action}.${state.digest}`;
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

function refused(tag: Tag): RegistryError {
  return new RegistryError('immutable-tag', `Tag '${tag}' is immutable and cannot be overwritten`);
}
