import { randomUUID } from 'node:crypto';
import type { S3Settings } from '../../config/types.ts';
import { httpStatus } from './s3-gateway.ts';
import type { S3Keys } from './s3-keys.ts';
import type { MultipartApi } from './multipart-api.ts';
import { MIN_PART_SIZE } from './part-limits.ts';

/** Multipart operations S3-compatible servers are known to leave out; Create, UploadPart and Complete they all have. */
export type MultipartOperation = 'ListMultipartUploads' | 'ListParts' | 'UploadPartCopy' | 'AbortMultipartUpload';

/**
 * Uploads keep no state between requests (`MultipartUploads`): every mode finds an upload's multipart upload with
 * ListMultipartUploads, resumes it with ListParts, and cancels it (and a dead write's leftovers) with
 * AbortMultipartUpload. No setting avoids those.
 */
const EVERY_MODE: readonly MultipartOperation[] = ['ListMultipartUploads', 'ListParts', 'AbortMultipartUpload'];

/** Where the probe works: a name no registry key takes, removed right after. */
const PROBE_PREFIX = '_probe/multipart/';

/** A server's answer for an operation it does not have (S3 itself: 501 NotImplemented; s3rver also 405). */
function isUnsupported(err: unknown): boolean {
  const status = httpStatus(err);
  const name = typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
  return status === 501 || status === 405 || name === 'NotImplemented' || name === 'MethodNotAllowed';
}

/**
 * Tries each operation once on a scratch multipart upload and returns those the server answers "not implemented"
 * to. Any other failure (the server is down, the credentials are wrong) is thrown: it is not an answer.
 */
export async function probeMultipart(api: MultipartApi, keys: S3Keys): Promise<ReadonlySet<MultipartOperation>> {
  const missing = new Set<MultipartOperation>();
  const attempt = async (operation: MultipartOperation, call: () => Promise<unknown>): Promise<void> => {
    try {
      await call();
    } catch (err) {
      if (!isUnsupported(err)) throw err;
      missing.add(operation);
    }
  };
  const name = randomUUID();
  const bucketKey = keys.full(`${PROBE_PREFIX}${name}`);
  const sourceKey = keys.full(`${PROBE_PREFIX}${name}.source`);
  await api.put(sourceKey, Buffer.from('probe'));
  try {
    const uploadId = await api.create(bucketKey);
    await attempt('ListMultipartUploads', () => api.uploadIdsOf(bucketKey));
    await attempt('ListParts', () => api.listParts(bucketKey, uploadId));
    await attempt('UploadPartCopy', () => api.uploadPartCopy(bucketKey, uploadId, 1, api.source(sourceKey)));
    // Last, so the other calls had an open upload to work on; without it the scratch upload stays behind.
    await attempt('AbortMultipartUpload', () => api.abort(bucketKey, [uploadId]));
  } finally {
    await api.deleteAll([sourceKey]);
  }
  return missing;
}

export interface MultipartVerdict {
  /** Set when uploads could not work: the start must fail with it. */
  readonly refusal: string | undefined;
  /** Set when only some uploads could fail: logged once. */
  readonly warning: string | undefined;
}

function listed(operations: readonly MultipartOperation[]): string {
  return operations.length === 1 ? operations[0]! : `${operations.slice(0, -1).join(', ')} and ${operations.at(-1)!}`;
}

/**
 * What the missing operations mean for the configured mode (docs/storage.md, "S3 uploads"). The default,
 * non-uniform mode with parts above 5 MiB coalesces chunked uploads through UploadPartCopy; uniform parts, or
 * 5 MiB parts, need no part copy. Above `multipart_copy_threshold` every mode promotes a finished upload with
 * ranged UploadPartCopy: without it only uploads that large fail, so that is a warning. `table` is the
 * configuration table named in the messages (`blob_store.s3`).
 */
export function multipartVerdict(
  missing: ReadonlySet<MultipartOperation>,
  settings: Pick<S3Settings, 'multipartUniformParts' | 'multipartPartSize' | 'multipartCopyThreshold'>,
  table: string,
): MultipartVerdict {
  const reasons: string[] = [];
  const unavoidable = EVERY_MODE.filter((operation) => missing.has(operation));
  if (unavoidable.length > 0) {
    reasons.push(
      `the S3 server does not implement ${listed(unavoidable)}, which uploads need whatever ${table}.multipart_uniform_parts says: ` +
        `no setting avoids ${unavoidable.length === 1 ? 'it' : 'them'}; use an S3 server that implements ${unavoidable.length === 1 ? 'it' : 'them'}`,
    );
  }
  const coalescing = !settings.multipartUniformParts && settings.multipartPartSize > MIN_PART_SIZE;
  const noPartCopy = missing.has('UploadPartCopy');
  if (noPartCopy && coalescing) {
    reasons.push(
      `the S3 server does not implement UploadPartCopy, which ${table}.multipart_uniform_parts = false needs with a ` +
        `multipart_part_size above 5MiB (chunked uploads are coalesced into parts by server-side copies): ` +
        `set ${table}.multipart_uniform_parts = true, or ${table}.multipart_part_size = "5MiB"`,
    );
  }
  const warning =
    noPartCopy && !coalescing
      ? `the S3 server does not implement UploadPartCopy: uploads larger than ${table}.multipart_copy_threshold ` +
        `(${settings.multipartCopyThreshold} bytes) will fail to complete; raise it to global.max_blob_size to avoid part copies`
      : undefined;
  return { refusal: reasons.length > 0 ? reasons.join('; ') : undefined, warning };
}
