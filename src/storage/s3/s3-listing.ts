import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Child } from '../object-store.ts';
import type { S3Gateway } from './s3-gateway.ts';

const S3_MAX_KEYS = 1000;

/** Bucket keys below `prefix` strictly after `startAfter`, in S3's (UTF-8 byte) order, fetched a page at a time. */
export async function* bucketKeys(gateway: S3Gateway, bucket: string, prefix: string, startAfter?: string): AsyncGenerator<string> {
  for await (const object of bucketObjects(gateway, bucket, prefix, startAfter)) yield object.key;
}

/** As `bucketKeys`, with each object's size from the same listing. */
export async function* bucketObjects(gateway: S3Gateway, bucket: string, prefix: string, startAfter?: string): AsyncGenerator<{ key: string; size: number }> {
  let after = startAfter;
  for (;;) {
    const page = await gateway.send((signal) =>
      gateway.client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: S3_MAX_KEYS, ...(after ? { StartAfter: after } : {}) }),
        { abortSignal: signal },
      ),
    );
    const objects = (page.Contents ?? []).map((object) => ({ key: object.Key ?? '', size: object.Size ?? 0 }));
    yield* objects;
    const last = objects.at(-1)?.key;
    if (!page.IsTruncated || last === undefined) return;
    after = last;
  }
}

/** A child plus its place in listing order: `name`, or `name/` for a prefix. */
export interface OrderedChild extends Child {
  order: string;
}

/**
 * One level below `prefix` (a bucket prefix ending in `/` or empty), children sorting after `after` (an order
 * token), at least `wanted` of them when that many exist. Uses StartAfter rather than continuation tokens: a
 * StartAfter of `p/` makes S3 report the common prefix `p/` again, which is dropped here, and asking for two
 * or more entries per request guarantees progress past it.
 */
export async function childrenAfter(
  gateway: S3Gateway,
  bucket: string,
  prefix: string,
  after: string,
  wanted: number,
): Promise<OrderedChild[]> {
  const children: OrderedChild[] = [];
  let startAfter = after;
  for (;;) {
    const maxKeys = Math.min(S3_MAX_KEYS, Math.max(2, wanted - children.length + 1));
    const page = await gateway.send((signal) =>
      gateway.client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          Delimiter: '/',
          MaxKeys: maxKeys,
          ...(startAfter !== '' ? { StartAfter: `${prefix}${startAfter}` } : {}),
        }),
        { abortSignal: signal },
      ),
    );
    const objects = (page.Contents ?? []).map((object) => ({ name: (object.Key ?? '').slice(prefix.length), isPrefix: false }));
    const prefixes = (page.CommonPrefixes ?? []).map((common) => ({ name: (common.Prefix ?? '').slice(prefix.length, -1), isPrefix: true }));
    const fresh = [...objects, ...prefixes]
      .map((child) => ({ ...child, order: child.isPrefix ? `${child.name}/` : child.name }))
      .filter((child) => byteCompare(child.order, startAfter) > 0)
      .sort((a, b) => byteCompare(a.order, b.order));
    children.push(...fresh);
    const last = fresh.at(-1);
    if (!page.IsTruncated || last === undefined || children.length >= wanted) return children;
    startAfter = last.order;
  }
}

export function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
