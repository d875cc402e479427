// s3rver, the S3 server behind the test fixture (src/storage/s3/s3rver-fixture.ts), writes an object in place: it
// truncates the object's file and streams the body into it, then writes the checksum and the metadata. A PutObject
// cut by a SIGKILLed client leaves a truncated object for every later GET, and a GET racing a PutObject reads part
// of the new body. S3 itself never shows either: a PutObject or CopyObject is atomic, and one that does not complete
// leaves the previous object, or none. The crash and shared-storage tests are about the registry, not about s3rver,
// so their test process makes s3rver's object writes atomic: the body goes to a temporary file beside the object
// (s3rver lists only files ending in `._S3rver_object`), metadata and checksum are written, and a rename publishes it.
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

interface StoredObject {
  bucket: string;
  key: string;
  content: Buffer | Readable;
  metadata: Record<string, string>;
}

interface FilesystemStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, unknown>>;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5?: string): Promise<void>;
  putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
  copyObject(srcBucket: string, srcKey: string, destBucket: string, destKey: string, replacementMetadata?: Record<string, string>): Promise<Record<string, unknown>>;
}

/**
 * Called with every key s3rver is asked to store (a PutObject, or the object a multipart completion assembles), as
 * the request arrives. Answering `'refuse'` fails that put before anything is stored: with a kill of the client it
 * stands for a client that died just before sending it.
 */
export type PutObserver = (key: string) => 'refuse' | undefined;

const observers = new Set<PutObserver>();
let patched = false;

/** Makes s3rver's PutObject and CopyObject atomic in this process (idempotent); `observe` sees every put key. */
export function useAtomicS3rver(observe?: PutObserver): () => void {
  if (observe !== undefined) observers.add(observe);
  if (!patched) {
    patched = true;
    const store = (createRequire(import.meta.url)('s3rver/lib/stores/filesystem.js') as { prototype: FilesystemStore }).prototype;
    store.putObject = putObjectAtomically;
    store.copyObject = copyObjectAtomically;
  }
  return () => {
    if (observe !== undefined) observers.delete(observe);
  };
}

async function putObjectAtomically(this: FilesystemStore, object: StoredObject): Promise<{ size: number; md5: string }> {
  for (const observe of observers) {
    if (observe(object.key) === 'refuse') throw new Error(`put of ${object.key} refused by the test`);
  }
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await mkdir(dirname(objectPath), { recursive: true });
  const temporary = `${objectPath}.${randomUUID()}.partial`;
  const md5 = createHash('md5');
  let size = 0;
  const counting = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      md5.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  try {
    // A body cut short ends the pipeline with an error: nothing is published.
    await pipeline(Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content, counting, createWriteStream(temporary));
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  const checksum = md5.digest('hex');
  await this.putMetadata(object.bucket, object.key, object.metadata, checksum);
  await rename(temporary, objectPath);
  return { size, md5: checksum };
}

async function copyObjectAtomically(
  this: FilesystemStore,
  srcBucket: string,
  srcKey: string,
  destBucket: string,
  destKey: string,
  replacementMetadata?: Record<string, string>,
): Promise<Record<string, unknown>> {
  const source = (resource: string) => this.getResourcePath(srcBucket, srcKey, resource);
  const destination = (resource: string) => this.getResourcePath(destBucket, destKey, resource);
  if (source('object') !== destination('object')) {
    await mkdir(dirname(destination('object')), { recursive: true });
    const temporary = `${destination('object')}.${randomUUID()}.partial`;
    await copyFile(source('object'), temporary);
    // The same bytes have the same checksum; s3rver computes a missing one on the next read.
    await copyFile(source('object.md5'), destination('object.md5')).catch(() => rm(destination('object.md5'), { force: true }));
    if (replacementMetadata) await this.putMetadata(destBucket, destKey, replacementMetadata);
    else await copyFile(source('metadata.json'), destination('metadata.json'));
    await rename(temporary, destination('object'));
  } else if (replacementMetadata) {
    await this.putMetadata(destBucket, destKey, replacementMetadata);
  }
  return this.getMetadata(destBucket, destKey);
}
