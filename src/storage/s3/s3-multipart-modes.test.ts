// The multipart modes and the promotion copy (docs/storage.md, "S3 uploads") on s3rver. The fixture enforces
// S3's 5 MiB minimum for non-final parts at CompleteMultipartUpload and records each completion's part sizes, which
// these tests read.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { objectStoreSuite } from '../object-store.suite.ts';
import { sha256OfStream } from '../suite-support.ts';
import type { S3Settings } from '../../config/types.ts';
import { S3ObjectStore } from './s3-object-store.ts';
import { S3rverFixture } from './s3rver-fixture.ts';
import { BodyLengthError } from './streamed-part.ts';

const MiB = 1024 * 1024;

let shared: Promise<S3rverFixture> | undefined;
const server = () => (shared ??= S3rverFixture.start());
after(async () => {
  if (shared !== undefined) await (await shared).close();
});

interface Store {
  store: S3ObjectStore;
  fixture: S3rverFixture;
  /** The bucket key of a store key. */
  bucketKey(key: string): string;
}

async function freshStore(overrides: Partial<S3Settings> = {}): Promise<Store> {
  const fixture = await server();
  const prefix = `modes-${randomBytes(4).toString('hex')}`;
  const store = new S3ObjectStore(fixture.options({ keyPrefix: prefix, ...overrides }));
  return { store, fixture, bucketKey: (key) => `${prefix}/${key}` };
}

/** `total` bytes in `chunkSize` chunks, fed to `hash` as produced. */
function bytes(total: number, chunkSize: number, hash: ReturnType<typeof createHash>): Readable {
  function* chunks(): Generator<Buffer> {
    for (let sent = 0; sent < total; ) {
      const chunk = randomBytes(Math.min(chunkSize, total - sent));
      hash.update(chunk);
      sent += chunk.length;
      yield chunk;
    }
  }
  return Readable.from(chunks());
}

/** Part sizes (MiB, rounded to bytes) of every completion of `bucketKey` so far. */
function completions(fixture: S3rverFixture, bucketKey: string): number[][] {
  return fixture.completed.filter((entry) => entry.key === bucketKey).map((entry) => entry.parts);
}

async function openParts(fixture: S3rverFixture, bucketKey: string): Promise<number[][]> {
  return (await fixture.uploads()).filter((upload) => upload.key === bucketKey).map((upload) => upload.parts);
}

const key = 'v2/repositories/app/_uploads/u1/data';

// With the default 50 MiB parts, the suite's 64 MiB streaming test (RSS growth under 32 MiB) proves that coalescing
// holds one 5 MiB sub-part, not a whole part.
objectStoreSuite('s3 on s3rver, non-uniform with the default 50 MiB parts (coalescing chunked writes)', async () => {
  const { store } = await freshStore({ multipartPartSize: 50 * MiB });
  return { store, cleanup: async () => store.destroy() };
});

objectStoreSuite('s3 on s3rver, uniform 6 MiB parts', async () => {
  const { store } = await freshStore({ multipartPartSize: 6 * MiB, multipartUniformParts: true });
  return { store, cleanup: async () => store.destroy() };
});

describe('S3 non-uniform mode', () => {
  it('1 MiB and 7 MiB of known length, 3 MiB chunked, then complete: one streamed part, the rest parked', async () => {
    const { store, fixture, bucketKey } = await freshStore();
    const sent = createHash('sha256');
    await store.createUpload(key);
    assert.equal(await store.writeUpload(key, bytes(1 * MiB, 256 * 1024, sent), { length: 1 * MiB }), 1 * MiB);
    assert.deepEqual(await openParts(fixture, bucketKey(key)), [], 'under 5 MiB: no multipart opened');
    assert.equal(await store.writeUpload(key, bytes(7 * MiB, 512 * 1024, sent), { length: 7 * MiB }), 7 * MiB);
    assert.deepEqual(await openParts(fixture, bucketKey(key)), [[8 * MiB]], 'parked 1 MiB + 7 MiB body: one streamed part');
    assert.equal(await store.writeUpload(key, bytes(3 * MiB, 64 * 1024, sent)), 3 * MiB);
    assert.deepEqual(await openParts(fixture, bucketKey(key)), [[8 * MiB]], 'the 3 MiB chunked write is parked, not a part');
    assert.deepEqual((await store.list('v2/repositories/app/_uploads/u1/staged')).keys, [
      `v2/repositories/app/_uploads/u1/staged/${String(8 * MiB).padStart(16, '0')}`,
    ]);
    assert.equal(await store.completeUpload(key), 11 * MiB);
    assert.deepEqual(completions(fixture, bucketKey(key)), [[8 * MiB, 3 * MiB]]);
    assert.equal(await sha256OfStream(await store.getStream(key)), sent.digest('hex'));
    store.destroy();
  });

  it('a total under 5 MiB of known-length writes never opens a multipart upload', async () => {
    const { store, fixture, bucketKey } = await freshStore();
    const sent = createHash('sha256');
    await store.createUpload(key);
    await store.writeUpload(key, bytes(2 * MiB, MiB, sent), { length: 2 * MiB });
    await store.writeUpload(key, bytes(2 * MiB, MiB, sent), { length: 2 * MiB });
    assert.equal(await store.completeUpload(key), 4 * MiB);
    assert.deepEqual(await openParts(fixture, bucketKey(key)), []);
    assert.deepEqual(completions(fixture, bucketKey(key)), [], 'completed by CopyObject of the parked bytes');
    assert.equal(await sha256OfStream(await store.getStream(key)), sent.digest('hex'));
    store.destroy();
  });

  it('chunked writes with 12 MiB parts: 5 MiB sub-parts coalesced in staged/coalesce, grafted as 12 MiB parts', async () => {
    const { store, fixture, bucketKey } = await freshStore({ multipartPartSize: 12 * MiB });
    const scratch = bucketKey('v2/repositories/app/_uploads/u1/staged/coalesce');
    const sent = createHash('sha256');
    await store.createUpload(key);
    assert.equal(await store.writeUpload(key, bytes(30 * MiB, MiB, sent)), 30 * MiB);
    assert.deepEqual(completions(fixture, scratch), [
      [5 * MiB, 5 * MiB, 2 * MiB],
      [5 * MiB, 5 * MiB, 2 * MiB],
      [5 * MiB, 1 * MiB],
    ]);
    assert.deepEqual(await openParts(fixture, bucketKey(key)), [[12 * MiB, 12 * MiB, 6 * MiB]], 'the write ends with its last sub-parts grafted');
    assert.deepEqual(await openParts(fixture, scratch), [], 'no scratch upload is left open');
    await store.writeUpload(key, bytes(3 * MiB, MiB, sent));
    assert.deepEqual((await store.list('v2/repositories/app/_uploads/u1/staged')).keys, [
      `v2/repositories/app/_uploads/u1/staged/${String(30 * MiB).padStart(16, '0')}`,
    ], 'under 5 MiB is parked; the scratch object is gone');
    assert.equal(await store.completeUpload(key), 33 * MiB);
    assert.deepEqual(completions(fixture, bucketKey(key)), [[12 * MiB, 12 * MiB, 6 * MiB, 3 * MiB]]);
    assert.equal(await sha256OfStream(await store.getStream(key)), sent.digest('hex'));
    store.destroy();
  });

  it('chunked writes with 5 MiB parts are plain 5 MiB parts, no scratch upload', async () => {
    const { store, fixture, bucketKey } = await freshStore({ multipartPartSize: 5 * MiB });
    const sent = createHash('sha256');
    await store.createUpload(key);
    await store.writeUpload(key, bytes(12 * MiB, 700 * 1024, sent));
    assert.equal(await store.completeUpload(key), 12 * MiB);
    assert.deepEqual(completions(fixture, bucketKey(key)), [[5 * MiB, 5 * MiB, 2 * MiB]]);
    assert.deepEqual(completions(fixture, bucketKey('v2/repositories/app/_uploads/u1/staged/coalesce')), []);
    assert.equal(await sha256OfStream(await store.getStream(key)), sent.digest('hex'));
    store.destroy();
  });

  it('a known-length write is all or nothing: a failing or short body commits no byte and rethrows', async () => {
    const { store } = await freshStore();
    const kept = createHash('sha256');
    await store.createUpload(key);
    await store.writeUpload(key, bytes(1 * MiB, MiB, kept), { length: 1 * MiB });
    const failure = new Error('client went away');
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(6 * MiB, 1);
      throw failure;
    }
    await assert.rejects(store.writeUpload(key, Readable.from(failing()), { length: 8 * MiB }), (err) => err === failure);
    assert.equal(await store.uploadSize(key), 1 * MiB);
    await assert.rejects(store.writeUpload(key, Readable.from([Buffer.alloc(5 * MiB)]), { length: 6 * MiB }), BodyLengthError);
    assert.equal(await store.uploadSize(key), 1 * MiB);
    await store.writeUpload(key, bytes(6 * MiB, MiB, kept), { length: 6 * MiB });
    assert.equal(await store.completeUpload(key), 7 * MiB);
    assert.equal(await sha256OfStream(await store.getStream(key)), kept.digest('hex'));
    store.destroy();
  });
});

describe('S3 streamed parts and stalls', () => {
  it('a known-length write whose body stops moving for the attempt timeout is abandoned, committing nothing', async () => {
    const { store } = await freshStore({ operationAttemptTimeoutSecs: 0.3 });
    await store.createUpload(key);
    const cancel = new AbortController();
    async function* stalling(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(5 * MiB);
      await sleep(30_000, undefined, { signal: cancel.signal }).catch(() => undefined);
    }
    await assert.rejects(store.writeUpload(key, Readable.from(stalling()), { length: 6 * MiB }), /stalled: no byte moved/);
    cancel.abort();
    assert.equal(await store.uploadSize(key), 0);
    store.destroy();
  });
});

describe('S3 uniform mode', () => {
  it('every non-final part is exactly multipart_part_size, known length or chunked; the remainder stays under one part', async () => {
    const { store, fixture, bucketKey } = await freshStore({ multipartPartSize: 6 * MiB, multipartUniformParts: true });
    const sent = createHash('sha256');
    await store.createUpload(key);
    await store.writeUpload(key, bytes(1 * MiB, MiB, sent), { length: 1 * MiB });
    await store.writeUpload(key, bytes(7 * MiB, MiB, sent), { length: 7 * MiB });
    assert.deepEqual(await openParts(fixture, bucketKey(key)), [[6 * MiB]]);
    await store.writeUpload(key, bytes(3 * MiB, 300 * 1024, sent));
    assert.deepEqual(await openParts(fixture, bucketKey(key)), [[6 * MiB]], '5 MiB parked: under one part');
    await store.writeUpload(key, bytes(13 * MiB, 2 * MiB, sent), { length: 13 * MiB });
    await store.writeUpload(key, bytes(2 * MiB, MiB, sent));
    assert.equal(await store.completeUpload(key), 26 * MiB);
    assert.deepEqual(completions(fixture, bucketKey(key)), [[6 * MiB, 6 * MiB, 6 * MiB, 6 * MiB, 2 * MiB]]);
    assert.equal(await sha256OfStream(await store.getStream(key)), sent.digest('hex'));
    store.destroy();
  });
});

describe('S3 promotion copy', () => {
  it('above multipart_copy_threshold: ranged UploadPartCopy of multipart_copy_chunk_size, identical bytes', async () => {
    const { store, fixture, bucketKey } = await freshStore({ multipartCopyThreshold: 8 * MiB, multipartCopyChunkSize: 5 * MiB, multipartCopyJobs: 2 });
    const sent = createHash('sha256');
    await store.createUpload(key);
    await store.writeUpload(key, bytes(12 * MiB + 100, MiB, sent), { length: 12 * MiB + 100 });
    await store.completeUpload(key);
    const blob = 'v2/blobs/sha256/ab/abcd/data';
    await store.move(key, blob);
    assert.deepEqual(completions(fixture, bucketKey(blob)), [[5 * MiB, 5 * MiB, 2 * MiB + 100]]);
    assert.equal(await sha256OfStream(await store.getStream(blob)), sent.digest('hex'));
    assert.deepEqual((await store.list('v2/repositories')).keys, []);

    const small = Buffer.from('a small object');
    await store.put('small', small);
    await store.copy('small', 'small-copy');
    assert.deepEqual(completions(fixture, bucketKey('small-copy')), [], 'at or under the threshold: one CopyObject');
    assert.deepEqual(await store.get('small-copy'), small);
    store.destroy();
  });

  it('a multipart copy of an absent source is NotFound and leaves no upload open', async () => {
    const { store, fixture, bucketKey } = await freshStore({ multipartCopyThreshold: 5 * MiB, multipartCopyChunkSize: 5 * MiB });
    await assert.rejects(store.copy('absent', 'target'), (err: unknown) => (err as { name?: string }).name === 'NotFoundError');
    assert.deepEqual(await openParts(fixture, bucketKey('target')), []);
    store.destroy();
  });
});

describe('s3rver fixture additions', () => {
  it('UploadPartCopy copies whole objects and ranges; completing with a small non-final part is EntityTooSmall', async () => {
    const { store, fixture, bucketKey } = await freshStore({ multipartCopyThreshold: 5 * MiB, multipartCopyChunkSize: 5 * MiB });
    const source = randomBytes(6 * MiB + 10);
    await store.put('source', source);
    await store.copy('source', 'copied');
    assert.deepEqual(completions(fixture, bucketKey('copied')), [[5 * MiB, MiB + 10]]);
    assert.ok((await store.get('copied')).equals(source));

    // A 1-byte non-final part: S3 refuses to complete, so must the fixture.
    const { CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand, S3Client } = await import('@aws-sdk/client-s3');
    const client = new S3Client({ endpoint: fixture.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    const Key = bucketKey('manual');
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: fixture.bucket, Key }));
    const one = await client.send(new UploadPartCommand({ Bucket: fixture.bucket, Key, UploadId, PartNumber: 1, Body: Buffer.alloc(1) }));
    const two = await client.send(new UploadPartCommand({ Bucket: fixture.bucket, Key, UploadId, PartNumber: 2, Body: Buffer.alloc(1) }));
    await assert.rejects(
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket: fixture.bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: one.ETag! }, { PartNumber: 2, ETag: two.ETag! }] },
        }),
      ),
      (err: unknown) => (err as { name?: string }).name === 'EntityTooSmall',
    );
    client.destroy();
    store.destroy();
  });
});
