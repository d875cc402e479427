// `scrub --uploads <dur>` (docs/operations.md, "scrub"): abandoned upload sessions removed with their bytes (and on
// S3 their multipart upload), in catalogued namespaces and in namespaces that only hold uploads.
import { isNamespace, type Namespace } from '../oci/name.ts';
import { uploadKeys } from '../registry/keys.ts';
import { olderThan, type MaintenanceContext } from './context.ts';
import type { NamespaceCheck } from './scrub.ts';

export const uploadsCheck: NamespaceCheck = {
  flag: '--uploads',
  visitsUploadOnly: true,
  run: async (context, ns, options) => {
    const { uploads, uploadListing } = context.registry;
    for (const id of await uploadListing.sessionIds(ns)) {
      // Idle past the duration; or broken (no readable record) and untouched for longer than grace, whatever it.
      const expired = async (): Promise<'idle' | 'broken' | undefined> => {
        const { kind, since } = await uploads.idleSince(ns, id);
        if (kind === 'broken') return olderThan(context, since) ? 'broken' : undefined;
        return olderThan(context, since, options.uploadsOlderThanMs!) ? 'idle' : undefined;
      };
      const why = await expired();
      if (why === undefined) continue;
      const kind = why === 'idle' ? 'delete expired upload' : 'delete broken upload';
      await context.actions.run(kind, `'${ns}/${id}'`, async () => {
        if ((await expired()) === undefined) return 'skipped';
        await uploads.cancel(ns, id);
        return 'applied';
      });
    }
  },
};

/** Every namespace of the upload tree holding at least one session. */
export async function uploadNamespaces(context: MaintenanceContext): Promise<Namespace[]> {
  const found: Namespace[] = [];
  let startAfter: string | undefined;
  do {
    const page = await context.blobStore.listChildren(uploadKeys.root, startAfter === undefined ? {} : { startAfter });
    for (const child of page.children) {
      if (child.isPrefix && isNamespace(child.name)) found.push(...(await context.registry.uploadListing.namespacesWithSessions(child.name)));
    }
    startAfter = page.next;
  } while (startAfter !== undefined);
  return found;
}
