import { isRegistryError } from './errors.ts';
import type { Namespace } from '../oci/name.ts';
import type { SessionId } from '../oci/session-id.ts';
import { isNotFound, type Child, type ObjectStore } from '../storage/object-store.ts';
import { uploadKeys } from './keys.ts';
import type { UploadStatus, Uploads } from './uploads.ts';

/** Open upload sessions as the extension API shows them: per namespace, and which namespaces have any. */
export class UploadListing {
  private readonly blobs: ObjectStore;
  private readonly uploads: Uploads;

  constructor(blobs: ObjectStore, uploads: Uploads) {
    this.blobs = blobs;
    this.uploads = uploads;
  }

  /** Ids of the sessions stored for the namespace, ascending. */
  async sessionIds(ns: Namespace): Promise<SessionId[]> {
    const ids: SessionId[] = [];
    for await (const child of this.children(uploadKeys.namespace(ns))) {
      const id = child.isPrefix ? uploadKeys.parseSessionChild(child.name) : undefined;
      if (id) ids.push(id);
    }
    return ids;
  }

  /**
   * Every session with its size and start time, sorted by id. A session finishing or being cancelled while
   * this runs has lost its state or bytes: it is skipped, as it is no longer open.
   */
  async sessions(ns: Namespace): Promise<UploadStatus[]> {
    const sessions: UploadStatus[] = [];
    for (const id of await this.sessionIds(ns)) {
      try {
        sessions.push(await this.uploads.status(ns, id));
      } catch (err) {
        if (isNotFound(err) || isRegistryError(err, 'blob-upload-unknown')) continue;
        throw err;
      }
    }
    return sessions;
  }

  /** `root` and the namespaces below it that hold at least one session, ascending. */
  async namespacesWithSessions(root: Namespace): Promise<Namespace[]> {
    const found: Namespace[] = [];
    await this.walk(root, found);
    return found;
  }

  private async walk(ns: Namespace, found: Namespace[]): Promise<void> {
    const below: Namespace[] = [];
    let hasSessions = false;
    for await (const child of this.children(uploadKeys.tree(ns))) {
      const parsed = child.isPrefix ? uploadKeys.parseTreeChild(ns, child.name) : undefined;
      if (parsed?.kind === 'namespace') below.push(parsed.ns);
      else if (parsed?.kind === 'sessions') hasSessions = (await this.sessionIds(ns)).length > 0;
    }
    if (hasSessions) found.push(ns);
    for (const child of below) await this.walk(child, found);
  }

  private async *children(prefix: string): AsyncGenerator<Child> {
    let startAfter: string | undefined;
    do {
      const page = await this.blobs.listChildren(prefix, startAfter === undefined ? {} : { startAfter });
      yield* page.children;
      startAfter = page.next;
    } while (startAfter !== undefined);
  }
}
