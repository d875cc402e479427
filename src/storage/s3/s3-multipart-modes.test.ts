// The multipart modes and the promotion copy (docs/storage.md, "S3 uploads") on Ceph RGW. RGW enforces S3's 5 MiB
// minimum for every part but the last at CompleteMultipartUpload (EntityTooSmall), so a completion that succeeds had
// no undersized non-final part. It cannot report the part sizes of a completed object (it ignores `partNumber` on
// HEAD/GET), so these tests read part sizes of uploads still open (ListParts, through `fixture.uploads()`) and,
// once completed, the part count from the object's ETag (`"<md5>-<N>"`), its size and the hash of its bytes.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, HeadObjectCommand, ListPartsCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { objectStoreSuite } from '../object-store.suite.ts';
import { sha256OfStream } from '../suite-support.ts';
import type { S3Settings } from '../../config/types.ts';
import { S3ObjectStore } from './s3-object-store.ts';
import { BodyLengthError } from './streamed-part.ts';
import { RgwFixture } from '../../../test/support/rgw-fixture.ts';

const MiB = 1024 * 1024;

let shared: Promise<RgwFixture> | undefined;
const server = () => (shared ??= RgwFixture.start());
after(async () => {
  if (shared !== undefined) await (await shared).close();
});

interface Store {
  store: S3ObjectStore;
  fixture: RgwFixture;
  /** The bucket key of a store key. */
  bucketKey(key: string): string;
}

async function freshStore(overrides: Partial<S3Settings> = {}): Promise<Store> {
  const fixture = await server();
  const prefix = `modes-${randomBytes(4).toString('hex')}`;
  const store = new S3ObjectStore(fixture.options({ keyPrefix: prefix, ...overrides }));
  return { store, fixture, bucketKey: (key) => `${prefix}/${key}` };
}

/**
 * `total` bytes in `chunkSize` chunks, fed to `hash` as produced. After the chunk that reaches a `pauses` offset the
 * stream stops producing until that pause's check has run, so the check sees the writer's state at that offset.
 */
function bytes(total: number, chunkSize: number, hash: ReturnType<typeof createHash>, pauses: [number, () => Promise<void>][] = []): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    const waiting = [...pauses].sort(([a], [b]) => a - b);
    for (let sent = 0; sent < total; ) {
      const chunk = randomBytes(Math.min(chunkSize, total - sent));
      hash.update(chunk);
      sent += chunk.length;
      yield chunk;
      while (waiting.length > 0 && waiting[0]![0] <= sent) await waiting.shift()![1]();
    }
  }
  return Readable.from(chunks());
}

async function openParts(fixture: RgwFixture, bucketKey: string): Promise<number[][]> {
  return (await fixture.uploads()).filter((upload) => upload.key === bucketKey).map((upload) => upload.parts);
}

/**
 * Polls `read` until it deep-equals `expected` (the writer works while the test waits), then asserts it. A read that
 * fails is retried too: an upload completed between ListMultipartUploads and its ListParts is NoSuchKey on RGW.
 */
async function eventually<T>(read: () => Promise<T>, expected: T, message: string): Promise<void> {
  const attempt = () => read().then((value) => ({ value }), (error: unknown) => ({ error }));
  const deadline = Date.now() + 10_000;
  let seen = await attempt();
  while (Date.now() < deadline && !('value' in seen && isDeepEqual(seen.value, expected))) {
    await sleep(25);
    seen = await attempt();
  }
  if ('error' in seen) throw seen.error;
  assert.deepEqual(seen.value, expected, message);
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

/**
 * A stored object as RGW shows it: its size and, when a multipart upload made it, its part count (the `-N` of its
 * ETag); `parts: 0` for an object written whole (PutObject or CopyObject of such an object).
 */
async function stored(fixture: RgwFixture, bucketKey: string): Promise<{ size: number; parts: number }> {
  const head = await fixture.client.send(new HeadObjectCommand({ Bucket: fixture.bucket, Key: bucketKey }));
  const count = /-(\d+)"?$/.exec(head.ETag ?? '')?.[1];
  return { size: head.ContentLength!, parts: count === undefined ? 0 : Number(count) };
}

const key = 'v2/repositories/app/_uploads/u1/data';

// With the default 50 MiB parts, the suite's 64 MiB streaming test (RSS growth under 32 MiB) proves that coalescing
// holds one 5 MiB sub-part, not a whole part.
objectStoreSuite('s3 on Ceph RGW, non-uniform with the default 50 MiB parts (coalescing chunked writes)', async () => {
  const { store } = await freshStore({ multipartPartSize: 50 * MiB });
  return { store, cleanup: async () => store.destroy() };
});

objectStoreSuite('s3 on Ceph RGW, uniform 6 MiB parts', async () => {
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
    // The open upload held the 8 MiB part; two parts in 11 MiB: the parked 3 MiB went in as the final part.
    assert.deepEqual(await stored(fixture, bucketKey(key)), { size: 11 * MiB, parts: 2 });
    assert.deepEqual(await openParts(fixture, bucketKey(key)), [], 'completed');
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
    assert.deepEqual(await stored(fixture, bucketKey(key)), { size: 4 * MiB, parts: 0 }, 'completed by CopyObject of the parked bytes, not a multipart upload');
    assert.equal(await sha256OfStream(await store.getStream(key)), sent.digest('hex'));
    store.destroy();
  });

  it('chunked writes with 12 MiB parts: 5 MiB sub-parts coalesced in staged/coalesce, grafted as 12 MiB parts', async () => {
    const { store, fixture, bucketKey } = await freshStore({ multipartPartSize: 12 * MiB });
    const scratch = bucketKey('v2/repositories/app/_uploads/u1/staged/coalesce');
    const sent = createHash('sha256');
    await store.createUpload(key);
    // The write pauses at sub-part boundaries: the scratch upload's parts are read while it is open; a completed
    // scratch object (kept until the next one replaces it or the write ends) shows its part count in its ETag.
    const filling = async (main: number[], subParts: number[]) => {
      await eventually(async () => [await openParts(fixture, bucketKey(key)), await openParts(fixture, scratch)], [main.length === 0 ? [] : [main], [subParts]], `5 MiB sub-parts in the scratch upload, ${main.length} part(s) grafted`);
    };
    const grafted = async (main: number[]) => {
      await eventually(async () => [await openParts(fixture, bucketKey(key)), await openParts(fixture, scratch)], [[main], []], 'the full scratch completed and grafted as one part');
      assert.deepEqual(await stored(fixture, scratch), { size: 12 * MiB, parts: 3 }, 'the scratch object: 5 + 5 MiB, then 2 MiB to land on 12 MiB');
    };
    const pauses: [number, () => Promise<void>][] = [
      [10 * MiB, () => filling([], [5 * MiB, 5 * MiB])],
      [12 * MiB, () => grafted([12 * MiB])],
      [22 * MiB, () => filling([12 * MiB], [5 * MiB, 5 * MiB])],
      [24 * MiB, () => grafted([12 * MiB, 12 * MiB])],
      [29 * MiB, () => filling([12 * MiB, 12 * MiB], [5 * MiB])],
    ];
    assert.equal(await store.writeUpload(key, bytes(30 * MiB, MiB, sent, pauses)), 30 * MiB);
    assert.deepEqual(await openParts(fixture, bucketKey(key)), [[12 * MiB, 12 * MiB, 6 * MiB]], 'the write ends with its last sub-parts (5 + 1 MiB) grafted');
    assert.deepEqual(await openParts(fixture, scratch), [], 'no scratch upload is left open');
    await store.writeUpload(key, bytes(3 * MiB, MiB, sent));
    assert.deepEqual((await store.list('v2/repositories/app/_uploads/u1/staged')).keys, [
      `v2/repositories/app/_uploads/u1/staged/${String(30 * MiB).padStart(16, '0')}`,
    ], 'under 5 MiB is parked; the scratch object is gone');
    assert.equal(await store.completeUpload(key), 33 * MiB);
    assert.deepEqual(await stored(fixture, bucketKey(key)), { size: 33 * MiB, parts: 4 }, '12 + 12 + 6 MiB open before, the parked 3 MiB last');
    assert.equal(await sha256OfStream(await store.getStream(key)), sent.digest('hex'));
    store.destroy();
  });

  it('chunked writes with 5 MiB parts are plain 5 MiB parts, no scratch upload', async () => {
    const { store, fixture, bucketKey } = await freshStore({ multipartPartSize: 5 * MiB });
    const sent = createHash('sha256');
    await store.createUpload(key);
    const scratch = bucketKey('v2/repositories/app/_uploads/u1/staged/coalesce');
    // Mid-write, after the first part: a coalescing write would have completed a scratch upload and kept its object.
    const noScratch = async () => {
      await eventually(() => openParts(fixture, bucketKey(key)), [[5 * MiB]], 'the first 5 MiB went out as a plain part');
      assert.deepEqual(await openParts(fixture, scratch), [], 'no scratch upload');
      assert.deepEqual([...(await fixture.objects(scratch)).keys()], [], 'no scratch object');
    };
    await store.writeUpload(key, bytes(12 * MiB, 700 * 1024, sent, [[7 * MiB, noScratch]]));
    assert.deepEqual(await openParts(fixture, bucketKey(key)), [[5 * MiB, 5 * MiB]], 'two 5 MiB parts, 2 MiB parked');
    assert.equal(await store.completeUpload(key), 12 * MiB);
    assert.deepEqual(await stored(fixture, bucketKey(key)), { size: 12 * MiB, parts: 3 });
    assert.deepEqual(await openParts(fixture, scratch), []);
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

describe('S3 completion with leftover parts of a write that died before its commit', () => {
  /**
   * 6 MiB committed as part 1, then 5 MiB parts 2 and 3 stored straight into the same multipart upload and never
   * committed (the completion's remainder overwrites part 2; part 3 stays a leftover).
   */
  async function withLeftover(fixture: RgwFixture, store: S3ObjectStore, bucketKey: string, hash: ReturnType<typeof createHash>): Promise<string> {
    await store.createUpload(key);
    await store.writeUpload(key, bytes(6 * MiB, MiB, hash), { length: 6 * MiB });
    const [upload] = (await fixture.uploads()).filter((open) => open.key === bucketKey);
    assert.deepEqual(upload?.parts, [6 * MiB]);
    for (const PartNumber of [2, 3]) {
      await fixture.client.send(new UploadPartCommand({ Bucket: fixture.bucket, Key: bucketKey, UploadId: upload!.uploadId, PartNumber, Body: randomBytes(5 * MiB) }));
    }
    return upload!.uploadId;
  }

  // 5 MiB copy chunks cut the 6 MiB committed bytes into 5 MiB + 1 MiB, which must not stay a non-final part.
  for (const copyChunk of [100 * MiB, 5 * MiB]) {
    it(`completes to exactly the committed bytes and the remainder, which RGW cannot complete from a subset of parts (${copyChunk / MiB} MiB copy chunks)`, async () => {
      const { store, fixture, bucketKey } = await freshStore({ multipartPartSize: 50 * MiB, multipartCopyChunkSize: copyChunk });
      const hash = createHash('sha256');
      await withLeftover(fixture, store, bucketKey(key), hash);
      await store.writeUpload(key, bytes(2 * MiB, MiB, hash), { length: 2 * MiB });
      assert.equal(await store.completeUpload(key), 8 * MiB);
      assert.equal(await sha256OfStream(await store.getStream(key)), hash.digest('hex'));
      assert.deepEqual(await openParts(fixture, bucketKey(key)), [], 'no multipart upload left open');
      store.destroy();
    });
  }

  it('a completion that died inside the trim (the object still holds the leftovers) is finished by the retry', async () => {
    const { store, fixture, bucketKey } = await freshStore({ multipartPartSize: 50 * MiB });
    const hash = createHash('sha256');
    const uploadId = await withLeftover(fixture, store, bucketKey(key), hash);
    await store.writeUpload(key, bytes(MiB, MiB, hash), { length: MiB });
    // The first step of the trim, done as a dying completion left it: every stored part completed.
    const parts = await fixture.client.send(new ListPartsCommand({ Bucket: fixture.bucket, Key: bucketKey(key), UploadId: uploadId }));
    await fixture.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: fixture.bucket,
        Key: bucketKey(key),
        UploadId: uploadId,
        MultipartUpload: { Parts: parts.Parts!.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
      }),
    );
    assert.equal((await stored(fixture, bucketKey(key))).size, 16 * MiB, 'the object holds the leftover parts');
    assert.equal(await store.completeUpload(key), 7 * MiB);
    assert.equal(await sha256OfStream(await store.getStream(key)), hash.digest('hex'));
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
    assert.deepEqual(await openParts(fixture, bucketKey(key)), [[6 * MiB, 6 * MiB, 6 * MiB, 6 * MiB]], '2 MiB parked: under one part');
    assert.equal(await store.completeUpload(key), 26 * MiB);
    assert.deepEqual(await stored(fixture, bucketKey(key)), { size: 26 * MiB, parts: 5 }, 'four 6 MiB parts, the parked 2 MiB last');
    assert.equal(await sha256OfStream(await store.getStream(key)), sent.digest('hex'));
    store.destroy();
  });
});

describe('S3 promotion copy', () => {
  it('above multipart_copy_threshold: ranged UploadPartCopy of multipart_copy_chunk_size, identical bytes', async () => {
    const { store, fixture, bucketKey } = await freshStore({ multipartCopyThreshold: 8 * MiB, multipartCopyChunkSize: 5 * MiB, multipartCopyJobs: 2 });
    const sent = createHash('sha256');
    await store.createUpload(key);
    await store.writeUpload(key, bytes(15 * MiB + 100, MiB, sent), { length: 15 * MiB + 100 });
    await store.completeUpload(key);
    assert.deepEqual(await stored(fixture, bucketKey(key)), { size: 15 * MiB + 100, parts: 1 }, 'the upload: one streamed part');
    const blob = 'v2/blobs/sha256/ab/abcd/data';
    await store.move(key, blob);
    // Four parts in 15 MiB + 100 bytes, each non-final one at least 5 MiB (RGW refuses less): 5, 5, 5 MiB and 100 bytes.
    assert.deepEqual(await stored(fixture, bucketKey(blob)), { size: 15 * MiB + 100, parts: 4 });
    assert.equal(await sha256OfStream(await store.getStream(blob)), sent.digest('hex'));
    assert.deepEqual((await store.list('v2/repositories')).keys, []);

    const small = Buffer.from('a small object');
    await store.put('small', small);
    await store.copy('small', 'small-copy');
    assert.deepEqual(await stored(fixture, bucketKey('small-copy')), { size: small.length, parts: 0 }, 'at or under the threshold: one CopyObject');
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

describe('what the store relies on from the server (Ceph RGW)', () => {
  it('UploadPartCopy copies whole objects and ranges; completing with a small non-final part is EntityTooSmall', async () => {
    const { store, fixture, bucketKey } = await freshStore({ multipartCopyThreshold: 5 * MiB, multipartCopyChunkSize: 5 * MiB });
    const source = randomBytes(10 * MiB + 10);
    await store.put('source', source);
    await store.copy('source', 'copied');
    // Three ranged parts in 10 MiB + 10 bytes, each non-final one at least 5 MiB (RGW refuses less, below): 5, 5 MiB
    // and 10 bytes.
    assert.deepEqual(await stored(fixture, bucketKey('copied')), { size: 10 * MiB + 10, parts: 3 });
    assert.ok((await store.get('copied')).equals(source));

    // A 1-byte non-final part: S3 refuses to complete, and so does RGW; the tests above rely on it.
    const { client, bucket: Bucket } = fixture;
    const Key = bucketKey('manual');
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const one = await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: Buffer.alloc(1) }));
    const two = await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: Buffer.alloc(1) }));
    await assert.rejects(
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: one.ETag! }, { PartNumber: 2, ETag: two.ETag! }] },
        }),
      ),
      (err: unknown) => (err as { name?: string }).name === 'EntityTooSmall',
    );
    assert.deepEqual(await openParts(fixture, Key), [[1, 1]], 'the refused upload is still open, nothing completed');
    assert.deepEqual([...(await fixture.objects(Key)).keys()], []);
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
    store.destroy();
  });
});
