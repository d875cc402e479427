// `scrub --referrers` (docs/operations.md, "scrub checks"): a referrer record older than grace whose referrer is no
// longer a revision of the namespace is deleted, with the referrer's `sub.<s>` reference key when that is older than
// grace too; the referrers API then stops listing it.
import { logger } from '../observability/logging.ts';
import type { Digest } from '../oci/digest.ts';
import type { Namespace } from '../oci/name.ts';
import { exists } from '../registry/json-record.ts';
import { refKeys, referrerKeys, revisionKeys } from '../registry/keys.ts';
import { dropReference } from './collector.ts';
import type { MaintenanceContext } from './context.ts';
import { keysUnder } from './key-listing.ts';
import { oldKey } from './revision-state.ts';
import type { NamespaceCheck } from './scrub.ts';

const log = logger('angos::maintenance::scrub');

export const referrersCheck: NamespaceCheck = {
  flag: '--referrers',
  run: async (context, ns) => {
    for await (const key of keysUnder(context.metaStore, referrerKeys.namespace(ns))) {
      const record = referrerKeys.parseRecord(ns, key);
      if (record === undefined) {
        log.warn('referrer record key does not parse; left alone', { key });
        continue;
      }
      try {
        await dropIfReferrerGone(context, ns, record.subject, record.referrer, key);
      } catch (err) {
        context.actions.failed(`check referrer record '${key}'`, err);
      }
    }
  },
};

async function dropIfReferrerGone(context: MaintenanceContext, ns: Namespace, subject: Digest, referrer: Digest, key: string): Promise<void> {
  const { metaStore, registry } = context;
  // A push writes the revision record before the referrer record, so an old record without one is left over.
  const orphaned = async () => !(await exists(metaStore, revisionKeys.revision(ns, referrer))) && (await oldKey(context, metaStore, key));
  if (!(await orphaned())) return;
  await context.actions.run('delete referrer record', `'${ns}@${subject}' referrer '${referrer}' (referrer revision gone)`, async () => {
    if (!(await orphaned())) return 'skipped';
    await registry.metadata.writes.deleteReferrer(ns, subject, referrer);
    // Backed only by the record just deleted; a young one belongs to a push of the referrer in flight.
    const link = { kind: 'sub', subject } as const;
    await dropReference(context, ns, referrer, link, () => oldKey(context, metaStore, refKeys.key(referrer, ns, link)));
    return 'applied';
  });
}
