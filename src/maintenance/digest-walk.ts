// The store-wide walks of maintenance: every digest with bytes or reference keys, in digest order, paged.
import { logger } from '../observability/logging.ts';
import type { Digest } from '../oci/digest.ts';
import { blobKeys, refKeys } from '../registry/keys.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import type { MaintenanceContext } from './context.ts';
import { keysUnder } from './key-listing.ts';

const log = logger('angos::maintenance::gc');

/** One digest as the two listings show it, with its reference keys. */
export interface DigestEntry {
  digest: Digest;
  keys: string[];
}

/** Digests under `v2/blobs/` ∪ `v2/ref/`, merged in digest order (both listings sort by `<alg>/<p>/<hash>`). */
export async function* digestEntries(context: MaintenanceContext): AsyncGenerator<DigestEntry> {
  const bytes = digestsWithBytes(context.blobStore)[Symbol.asyncIterator]();
  const refs = referenceGroups(context.metaStore)[Symbol.asyncIterator]();
  let nextBytes = await bytes.next();
  let nextRefs = await refs.next();
  while (!nextBytes.done || !nextRefs.done) {
    const b = nextBytes.done ? undefined : nextBytes.value;
    const r = nextRefs.done ? undefined : nextRefs.value;
    if (b !== undefined && (r === undefined || b < r.digest)) {
      yield { digest: b, keys: [] };
      nextBytes = await bytes.next();
    } else if (b !== undefined && r !== undefined && b === r.digest) {
      yield { digest: b, keys: r.keys };
      [nextBytes, nextRefs] = await Promise.all([bytes.next(), refs.next()]);
    } else {
      yield r!;
      nextRefs = await refs.next();
    }
  }
}

async function* digestsWithBytes(store: ObjectStore): AsyncGenerator<Digest> {
  for await (const key of keysUnder(store, blobKeys.root)) {
    const digest = blobKeys.parseData(key);
    if (digest !== undefined) yield digest;
    else log.warn('object under v2/blobs/ is not a blob; left alone', { key });
  }
}

export async function* referenceGroups(store: ObjectStore): AsyncGenerator<{ digest: Digest; keys: string[] }> {
  let group: { digest: Digest; keys: string[] } | undefined;
  for await (const key of keysUnder(store, refKeys.root)) {
    const digest = refKeys.digestOf(key);
    if (digest === undefined) {
      log.warn('reference key names no digest; left alone', { key });
      continue;
    }
    if (group?.digest !== digest) {
      if (group !== undefined) yield group;
      group = { digest, keys: [] };
    }
    group.keys.push(key);
  }
  if (group !== undefined) yield group;
}
