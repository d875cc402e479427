// Restoring a reference key a push writes (docs/storage.md, "Who may read a blob"), shared by the scrub repairs.
import type { Digest } from '../oci/digest.ts';
import type { Namespace } from '../oci/name.ts';
import { exists } from '../registry/json-record.ts';
import { refKeys, type Link } from '../registry/keys.ts';
import type { MaintenanceContext } from './context.ts';

/**
 * Writes one missing reference key of `ns` on `digest` when `justified` holds, asked again at apply time (a dry run
 * previews only what a real run would write). Restoring a key never grants access the namespace lacks: callers
 * justify it by a revision record of the namespace, or by the namespace already being able to read the digest.
 */
export async function restoreReference(context: MaintenanceContext, ns: Namespace, digest: Digest, link: Link, justified: () => Promise<boolean>): Promise<void> {
  const key = refKeys.key(digest, ns, link);
  if ((await exists(context.metaStore, key)) || !(await justified())) return;
  await context.actions.run('restore reference key', `'${key}'`, async () => {
    if ((await exists(context.metaStore, key)) || !(await justified())) return 'skipped';
    await context.registry.access.link(ns, digest, link);
    return 'applied';
  });
}
