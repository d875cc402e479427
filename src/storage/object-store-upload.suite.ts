import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ObjectStore } from './object-store.ts';
import { assertNotFound, sha256OfStream } from './suite-support.ts';

type Test = (title: string, body: (store: ObjectStore) => Promise<void>) => void;

const MiB = 1024 * 1024;

/**
 * Full garbage collection on demand. Spent chunks are garbage V8 may keep for tens of MiB before collecting, which
 * would blur "RSS grew because the store kept the bytes" with "RSS grew because nobody collected yet".
 */
function collectGarbage(): void {
  gc ??= exposeGc();
  gc();
}
let gc: (() => void) | undefined;

function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** The upload primitive's part of the backend contract; registered by `objectStoreSuite`. */
export function uploadSuite(test: Test): void {
  const uploadKey = 'v2/repositories/org/app/_uploads/3f1c/data';

  test('upload: create, append three chunks, complete, move to the final key, read back', async (store) => {
    const chunks = [Buffer.from('first chunk|'), Buffer.from('second|'), Buffer.alloc(70_000, 'x')];
    await store.createUpload(uploadKey);
    assert.equal(await store.uploadSize(uploadKey), 0);
    let expectedSize = 0;
    for (const chunk of chunks) {
      assert.equal(await store.writeUpload(uploadKey, Readable.from([chunk])), chunk.length);
      expectedSize += chunk.length;
      assert.equal(await store.uploadSize(uploadKey), expectedSize);
    }
    assert.equal(await store.completeUpload(uploadKey), expectedSize);
    assert.equal((await store.head(uploadKey)).size, expectedSize);
    await store.move(uploadKey, 'v2/blobs/sha256/ab/abcd/data');
    assert.deepEqual(await store.get('v2/blobs/sha256/ab/abcd/data'), Buffer.concat(chunks));
    await assertNotFound(store.uploadSize(uploadKey), uploadKey);
    assert.deepEqual((await store.list('v2/repositories')).keys, []);
  });

  test('upload: one write of many chunks counts them all; an empty body appends nothing', async (store) => {
    await store.createUpload(uploadKey);
    const parts = ['a', 'bb', 'ccc', 'dddd'].map((s) => Buffer.from(s));
    assert.equal(await store.writeUpload(uploadKey, Readable.from(parts)), 10);
    assert.equal(await store.writeUpload(uploadKey, Readable.from([])), 0);
    assert.equal(await store.completeUpload(uploadKey), 10);
    assert.equal((await store.get(uploadKey)).toString(), 'abbcccdddd');
  });

  test('upload: writes with a known length (the hint) and without mix, crossing part boundaries', async (store) => {
    const sent = createHash('sha256');
    const bodies = [Buffer.alloc(1 * MiB, 1), Buffer.alloc(7 * MiB, 2), Buffer.alloc(3 * MiB, 3), Buffer.alloc(5 * MiB, 4)];
    await store.createUpload(uploadKey);
    for (const [index, body] of bodies.entries()) {
      sent.update(body);
      const chunks = [body.subarray(0, 100), body.subarray(100)];
      const written = await store.writeUpload(uploadKey, Readable.from(chunks), index % 2 === 0 ? { length: body.length } : {});
      assert.equal(written, body.length);
    }
    assert.equal(await store.uploadSize(uploadKey), 16 * MiB);
    assert.equal(await store.completeUpload(uploadKey), 16 * MiB);
    assert.equal(await sha256OfStream(await store.getStream(uploadKey)), sent.digest('hex'));
  });

  test('upload: createUpload discards bytes leaked under the same key', async (store) => {
    await store.createUpload(uploadKey);
    await store.writeUpload(uploadKey, Readable.from([Buffer.from('stale bytes')]));
    await store.createUpload(uploadKey);
    assert.equal(await store.uploadSize(uploadKey), 0);
    await store.writeUpload(uploadKey, Readable.from([Buffer.from('fresh')]));
    assert.equal(await store.completeUpload(uploadKey), 5);
    assert.equal((await store.get(uploadKey)).toString(), 'fresh');
  });

  test('upload: writing to an aborted or never-created upload throws NotFoundError', async (store) => {
    await assertNotFound(store.writeUpload(uploadKey, Readable.from([Buffer.from('x')])), uploadKey);
    await assertNotFound(store.uploadSize(uploadKey), uploadKey);
    await store.createUpload(uploadKey);
    await store.writeUpload(uploadKey, Readable.from([Buffer.from('some bytes')]));
    await store.abortUpload(uploadKey);
    await store.abortUpload(uploadKey);
    await assertNotFound(store.writeUpload(uploadKey, Readable.from([Buffer.from('x')])), uploadKey);
    await assertNotFound(store.uploadSize(uploadKey), uploadKey);
    await assertNotFound(store.completeUpload(uploadKey), uploadKey);
    await assertNotFound(store.get(uploadKey), uploadKey);
  });

  test('upload: a source that fails mid-way leaves the bytes received so far and rethrows', async (store) => {
    await store.createUpload(uploadKey);
    await store.writeUpload(uploadKey, Readable.from([Buffer.from('before|')]));
    const failure = new Error('client went away');
    const source = failingAfter([Buffer.alloc(6 * MiB, 'a'), Buffer.from('tail')], failure);
    await assert.rejects(store.writeUpload(uploadKey, source), (err) => err === failure);
    const expected = 'before|'.length + 6 * MiB + 'tail'.length;
    assert.equal(await store.uploadSize(uploadKey), expected);
    await store.writeUpload(uploadKey, Readable.from([Buffer.from('|resumed')]));
    assert.equal(await store.completeUpload(uploadKey), expected + '|resumed'.length);
    const stored = await store.getStream(uploadKey, { start: expected - 'tail'.length });
    assert.equal(await sha256OfStream(stored), createHash('sha256').update('tail|resumed').digest('hex'));
  });

  test('upload: 64 MiB streams through without the process holding it in memory', async (store) => {
    const total = 64 * MiB;
    const chunkSize = 256 * 1024;
    // Warm-up, so code loading and first-use allocations are not counted as upload memory.
    await store.createUpload(uploadKey);
    await store.writeUpload(uploadKey, Readable.from([Buffer.alloc(chunkSize)]));
    await store.createUpload(uploadKey);

    collectGarbage();
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sent = createHash('sha256');
    function* generate(): Generator<Buffer> {
      for (let i = 0; i < total / chunkSize; i++) {
        const chunk = Buffer.alloc(chunkSize, i % 251);
        sent.update(chunk);
        if (i % 16 === 15) collectGarbage();
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
        yield chunk;
      }
    }
    assert.equal(await store.writeUpload(uploadKey, Readable.from(generate())), total);
    collectGarbage();
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);

    const growth = rssPeak - rssBefore;
    assert.ok(growth < 32 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB while streaming 64 MiB`);
    assert.equal(await store.completeUpload(uploadKey), total);
    assert.equal(await sha256OfStream(await store.getStream(uploadKey)), sent.digest('hex'));
  });
}

/**
 * Yields `chunks`, then fails when asked for more, the way a request whose client disconnects does. No read-ahead
 * (highWaterMark 0), so every chunk was handed to the consumer before the failure.
 */
function failingAfter(chunks: Buffer[], failure: Error): Readable {
  let next = 0;
  return new Readable({
    highWaterMark: 0,
    read() {
      const chunk = chunks[next++];
      if (chunk === undefined) this.destroy(failure);
      else this.push(chunk);
    },
  });
}
