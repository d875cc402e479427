import type { S3Settings } from '../../config/types.ts';
import { httpStatus } from './s3-gateway.ts';

/**
 * The start-up check's failure in the operator's terms, naming the configuration key to look at. S3 servers differ
 * in their error bodies (Ceph RGW sends an empty message, which the SDK reports as "UnknownError"): the error code
 * and status are what every server sends.
 */
export function startupFailure(err: unknown, settings: Pick<S3Settings, 'endpoint' | 'bucket'>, table: string): string {
  const status = httpStatus(err);
  const code = typeof err === 'object' && err !== null ? String((err as { name?: unknown }).name ?? 'Error') : 'Error';
  const endpoint = settings.endpoint;
  if (status === undefined) return `${table}.endpoint ${endpoint} cannot be reached: ${(err as Error)?.message ?? String(err)}`;
  const answer = `${code}, HTTP ${status}`;
  if (code === 'NoSuchBucket') return `${table}.bucket "${settings.bucket}" does not exist on ${endpoint} (${answer})`;
  if (status === 403 || code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch') {
    return `the S3 server at ${endpoint} refused the credentials for bucket "${settings.bucket}" (${answer}): check ${table}.access_key_id and ${table}.secret_key`;
  }
  return `the S3 server at ${endpoint} failed the start-up check on bucket "${settings.bucket}" (${answer})`;
}
