// `scrub --multipart <dur>` (docs/storage.md, "S3 uploads"): aborts S3 multipart uploads no live upload session
// owns.
import { logger } from '../observability/logging.ts';
import { isNamespace, type Namespace } from '../oci/name.ts';
import { parseSessionId, type SessionId } from '../oci/session-id.ts';
import { uploadKeys } from '../registry/keys.ts';
import { isNotFound, type ObjectStore } from '../storage/object-store.ts';
import type { MultipartUpload } from '../storage/s3/s3-object-store.ts';
import type { Actions } from './actions.ts';
import type { StoreCheck } from './scrub.ts';

const log = logger('angos::maintenance::multipart');

/** What the check needs of the blob store: the S3 store's multipart listing, and `head` for session records. */
export interface MultipartStore extends Pick<ObjectStore, 'head'> {
  listMultipartUploads(prefix: string): Promise<MultipartUpload[]>;
  abortMultipartUpload(key: string, uploadId: string): Promise<void>;
}

export interface MultipartScrubOptions {
  /** Only uploads initiated at least this long ago are candidates. */
  olderThanMs: number;
  now?: Date;
}

export const multipartCheck: StoreCheck = {
  flag: '--multipart',
  run: async (context, options) => {
    if (!isMultipartStore(context.blobStore)) {
      log.warn('--multipart is S3-only: the blob store is on the filesystem, nothing to do');
      return;
    }
    await scrubMultipart(context.blobStore, { olderThanMs: options.multipartOlderThanMs! }, context.actions);
  },
};

function isMultipartStore(store: ObjectStore): store is ObjectStore & MultipartStore {
  return 'listMultipartUploads' in store && 'abortMultipartUpload' in store;
}

export interface MultipartScrubSummary {
  aborted: number;
  /** Candidates left alone: young, not an upload key, or a session still recorded. */
  kept: number;
  /** Probes and aborts that failed (logged at error; the upload is kept). */
  failures: number;
}

/** An upload key `…/_uploads/<uuid>/data` (or its session folder for a scratch upload), before keys.ts confirms it. */
const UPLOAD_KEY = /^v2\/repositories\/(.+)\/_uploads\/([^/]+)(\/data)?$/;

/** The session a multipart upload works for, when its key is one keys.ts would build; undefined otherwise. */
export function sessionOf(upload: Pick<MultipartUpload, 'key' | 'scratchOf'>): { ns: Namespace; id: SessionId } | undefined {
  const key = upload.scratchOf ?? upload.key;
  const match = UPLOAD_KEY.exec(key);
  if (match === null) return undefined;
  const [, name = '', rawId = ''] = match;
  const id = parseSessionId(rawId);
  if (id === undefined || !isNamespace(name)) return undefined;
  const ns = name;
  const expected = upload.scratchOf !== undefined ? uploadKeys.session(ns, id) : uploadKeys.data(ns, id);
  return expected === key ? { ns, id } : undefined;
}

/**
 * Lists every multipart upload of the blob store and aborts those initiated at least `olderThanMs` ago whose key is
 * an upload's `data` key or its `staged/coalesce` scratch, and whose session record is proven absent. Anything
 * else is kept: an unknown key may be another writer's (a promotion copy), and a failed probe proves nothing.
 * Throws only when the listing itself fails (the check could not run).
 */
export async function scrubMultipart(store: MultipartStore, options: MultipartScrubOptions, actions: Actions): Promise<MultipartScrubSummary> {
  const now = (options.now ?? new Date()).getTime();
  const summary: MultipartScrubSummary = { aborted: 0, kept: 0, failures: 0 };
  for (const upload of await store.listMultipartUploads('')) {
    const subject = `'${upload.key}' (${upload.uploadId})`;
    const session = sessionOf(upload);
    // A missing initiation time is young, as every age gate treats it.
    const old = upload.initiated !== undefined && now - upload.initiated.getTime() >= options.olderThanMs;
    if (session === undefined || !old) {
      log.debug(`keep multipart upload ${subject}`, { reason: session === undefined ? 'not an upload key' : 'too young' });
      summary.kept++;
      continue;
    }
    const orphan = await sessionAbsent(store, session);
    if (orphan !== true) {
      if (orphan === undefined) summary.failures++;
      summary.kept++;
      continue;
    }
    const outcome = await actions.run('abort orphan multipart upload', subject, async () => {
      if ((await sessionAbsent(store, session)) !== true) return 'skipped';
      await store.abortMultipartUpload(upload.key, upload.uploadId);
      return 'applied';
    });
    if (outcome === 'applied') summary.aborted++;
    else summary.kept++;
    if (outcome === 'failed') summary.failures++;
  }
  log.info('multipart scrub finished', { ...summary, dry_run: actions.dryRun });
  return summary;
}

/** true when the session record is proven absent, false when present, undefined when the probe failed. */
async function sessionAbsent(store: MultipartStore, session: { ns: Namespace; id: SessionId }): Promise<boolean | undefined> {
  try {
    await store.head(uploadKeys.state(session.ns, session.id));
    return false;
  } catch (err) {
    if (isNotFound(err)) return true;
    log.error('could not probe upload session record; keeping its multipart upload', { namespace: session.ns, session: session.id, error: String(err) });
    return undefined;
  }
}
