import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { isNotFound } from '../object-store.ts';
import { objectStoreSuite } from '../object-store.suite.ts';
import { readAll, sha256OfStream } from '../suite-support.ts';
import { CircuitOpenError } from './circuit-breaker.ts';
import type { S3Settings } from '../../config/types.ts';
import { S3ObjectStore } from './s3-object-store.ts';
import { PlainS3rver } from '../../../test/support/plain-s3rver.ts';
import { RgwFixture } from '../../../test/support/rgw-fixture.ts';

const MiB = 1024 * 1024;

// One bucket on the run's Ceph RADOS Gateway for the tests that need no outage; each store takes a key prefix of its own.
let shared: Promise<RgwFixture> | undefined;
const server = () => (shared ??= RgwFixture.start());
let storeCount = 0;
after(async () => {
  if (shared !== undefined) await (await shared).close();
});

/** A fresh, empty store: its own key prefix in the shared bucket. */
async function freshStore(overrides: Partial<S3Settings> = {}): Promise<S3ObjectStore> {
  const fixture = await server();
  return new S3ObjectStore(fixture.options({ keyPrefix: `t${++storeCount}-${randomBytes(4).toString('hex')}/`, ...overrides }));
}

objectStoreSuite('s3 on Ceph RGW', async () => {
  const store = await freshStore();
  return { store, cleanup: async () => store.destroy() };
});

/** A stream of `total` bytes in `chunkSize` chunks, hashed as it is produced. */
function generated(total: number, chunkSize: number, seed: number, hash: ReturnType<typeof createHash>): Readable {
  function* chunks(): Generator<Buffer> {
    for (let sent = 0, i = 0; sent < total; i++) {
      const chunk = Buffer.alloc(Math.min(chunkSize, total - sent), (seed + i) % 251);
      hash.update(chunk);
      sent += chunk.length;
      yield chunk;
    }
  }
  return Readable.from(chunks());
}

async function uploadsOf(fixture: RgwFixture, bucketKey: string) {
  return (await fixture.uploads()).filter((upload) => upload.key === bucketKey);
}

describe('S3ObjectStore on Ceph RGW', () => {
  it('1 MiB, 7 MiB, 3 MiB chunked, complete: correct bytes, no non-final part under 5 MiB', async () => {
    const fixture = await server();
    const store = new S3ObjectStore(fixture.options({ keyPrefix: 'scenario-11' }));
    const key = 'v2/repositories/app/_uploads/u1/data';
    const sent = createHash('sha256');
    await store.createUpload(key);
    assert.equal(await store.writeUpload(key, generated(1 * MiB, 1 * MiB, 1, sent)), 1 * MiB);
    assert.deepEqual(await uploadsOf(fixture, `scenario-11/${key}`), [], 'under one part: no multipart yet');
    assert.equal(await store.writeUpload(key, generated(7 * MiB, 7 * MiB, 2, sent)), 7 * MiB);
    assert.equal(await store.writeUpload(key, generated(3 * MiB, 64 * 1024, 3, sent)), 3 * MiB);
    assert.equal(await store.uploadSize(key), 11 * MiB);
    const [open, ...others] = await uploadsOf(fixture, `scenario-11/${key}`);
    assert.deepEqual(others, []);
    assert.deepEqual(open?.parts, [5 * MiB, 5 * MiB], 'parts before completing: every one a full part');
    assert.equal(await store.completeUpload(key), 11 * MiB);
    assert.equal((await store.head(key)).size, 11 * MiB);
    assert.equal(await sha256OfStream(await store.getStream(key)), sent.digest('hex'));
    assert.deepEqual(await uploadsOf(fixture, `scenario-11/${key}`), [], 'completed');
    assert.deepEqual((await store.list('v2/repositories/app/_uploads/u1')).keys, [key], 'staged remainders are gone');
    store.destroy();
  });

  it('a 2 MiB upload never opens a multipart upload', async () => {
    const fixture = await server();
    const store = new S3ObjectStore(fixture.options({ keyPrefix: 'scenario-11-small' }));
    const key = 'v2/repositories/app/_uploads/u2/data';
    const sent = createHash('sha256');
    await store.createUpload(key);
    await store.writeUpload(key, generated(1 * MiB, 256 * 1024, 4, sent));
    await store.writeUpload(key, generated(1 * MiB, 256 * 1024, 5, sent));
    assert.deepEqual(await uploadsOf(fixture, `scenario-11-small/${key}`), []);
    assert.equal(await store.completeUpload(key), 2 * MiB);
    assert.deepEqual(await uploadsOf(fixture, `scenario-11-small/${key}`), []);
    assert.equal(await sha256OfStream(await store.getStream(key)), sent.digest('hex'));
    store.destroy();
  });

  it('an upload started by one store instance is continued and completed by another (nothing held in memory)', async () => {
    const first = await freshStore();
    const fixture = await server();
    const prefix = `continued-${randomBytes(4).toString('hex')}`;
    const a = new S3ObjectStore(fixture.options({ keyPrefix: prefix }));
    const b = new S3ObjectStore(fixture.options({ keyPrefix: prefix }));
    first.destroy();
    const key = 'v2/repositories/app/_uploads/u3/data';
    const sent = createHash('sha256');
    await a.createUpload(key);
    await a.writeUpload(key, generated(6 * MiB, 512 * 1024, 6, sent));
    assert.equal(await b.uploadSize(key), 6 * MiB);
    await b.writeUpload(key, generated(5 * MiB, 512 * 1024, 7, sent));
    assert.equal(await a.uploadSize(key), 11 * MiB);
    await a.writeUpload(key, generated(100, 100, 8, sent));
    assert.equal(await b.completeUpload(key), 11 * MiB + 100);
    assert.equal(await sha256OfStream(await a.getStream(key)), sent.digest('hex'));
    a.destroy();
    b.destroy();
  });

  it('completeUpload retried after an interrupted completion (object written, staged remainder left) finishes cleanly', async () => {
    const store = await freshStore();
    const key = 'v2/repositories/app/_uploads/u5/data';
    const sent = createHash('sha256');
    await store.createUpload(key);
    await store.writeUpload(key, generated(6 * MiB, MiB, 11, sent));
    const [staged] = (await store.list('v2/repositories/app/_uploads/u5/staged')).keys;
    assert.equal(staged, 'v2/repositories/app/_uploads/u5/staged/0000000005242880', 'the offset names the remainder');
    const remainder = await store.get(staged);
    assert.equal(await store.completeUpload(key), 6 * MiB);
    // What a process dying right after CompleteMultipartUpload leaves behind.
    await store.put(staged, remainder);
    assert.equal(await store.completeUpload(key), 6 * MiB);
    assert.deepEqual((await store.list('v2/repositories/app/_uploads/u5')).keys, [key]);
    assert.equal(await store.completeUpload(key), 6 * MiB, 'completing a completed upload reports its size');
    assert.equal(await sha256OfStream(await store.getStream(key)), sent.digest('hex'));
    store.destroy();
  });

  it('abortUpload removes the multipart upload and staged bytes, and is idempotent', async () => {
    const fixture = await server();
    const store = new S3ObjectStore(fixture.options({ keyPrefix: 'aborted' }));
    const key = 'v2/repositories/app/_uploads/u4/data';
    await store.createUpload(key);
    await store.writeUpload(key, generated(6 * MiB, MiB, 9, createHash('sha256')));
    assert.equal((await uploadsOf(fixture, `aborted/${key}`)).length, 1);
    const listed = await store.listMultipartUploads('v2/repositories');
    assert.deepEqual(listed.map((upload) => upload.key), [key]);
    assert.ok(listed[0]!.initiated instanceof Date);
    assert.deepEqual(await store.listMultipartUploads('v2/repositories/other'), []);
    await store.abortUpload(key);
    await store.abortUpload(key);
    assert.deepEqual(await uploadsOf(fixture, `aborted/${key}`), []);
    assert.deepEqual((await store.list('')).keys, []);

    await store.createUpload(key);
    await store.writeUpload(key, generated(6 * MiB, MiB, 10, createHash('sha256')));
    const [leaked] = await store.listMultipartUploads('');
    await store.abortMultipartUpload(leaked!.key, leaked!.uploadId);
    await store.abortMultipartUpload(leaked!.key, leaked!.uploadId);
    assert.deepEqual(await store.listMultipartUploads(''), []);
    store.destroy();
  });

  it('presign gives a URL carrying X-Amz-Expires that fetch reads the bytes from, with the response content type', async () => {
    const store = await freshStore();
    const body = randomBytes(4096);
    await store.put('v2/blobs/sha256/ab/abcd/data', body);
    const url = await store.presign('v2/blobs/sha256/ab/abcd/data', 1800, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(new URL(url).searchParams.get('X-Amz-Expires'), '1800');
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/vnd.oci.image.manifest.v1+json');
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), body);
    const plain = await store.presign('v2/blobs/sha256/ab/abcd/data', 60);
    assert.equal(new URL(plain).searchParams.get('X-Amz-Expires'), '60');
    assert.equal(new URL(plain).searchParams.has('response-content-type'), false);
    store.destroy();
  });

  it('credentials are checked: a wrong secret or an unknown access key is refused, not served', async () => {
    const fixture = await server();
    const wrongSecret = new S3ObjectStore(fixture.options({ keyPrefix: 'creds', secretKey: 'not-the-secret', maxAttempts: 1 }));
    await assert.rejects(wrongSecret.put('k', 'v'), /SignatureDoesNotMatch/);
    await assert.rejects(wrongSecret.get('k'), (err: unknown) => !isNotFound(err));
    const unknownKey = new S3ObjectStore(fixture.options({ keyPrefix: 'creds', accessKeyId: 'NOBODY', maxAttempts: 1 }));
    await assert.rejects(unknownKey.list(''), /InvalidAccessKeyId/);
    await assert.rejects(unknownKey.createIfAbsent('k', 'v'), /InvalidAccessKeyId/);
    const right = new S3ObjectStore(fixture.options({ keyPrefix: 'creds' }));
    await right.put('k', 'v');
    assert.deepEqual((await right.list('')).keys, ['k']);
    for (const store of [wrongSecret, unknownKey, right]) store.destroy();
  });

  it('key_prefix isolates stores sharing a bucket; keys land at <prefix>/<key>', async () => {
    const fixture = await server();
    const tag = randomBytes(4).toString('hex');
    const a = new S3ObjectStore(fixture.options({ keyPrefix: `iso-${tag}/a/` }));
    const b = new S3ObjectStore(fixture.options({ keyPrefix: `iso-${tag}/b` }));
    const whole = new S3ObjectStore(fixture.options({ keyPrefix: `iso-${tag}` }));
    await a.put('v2/cat/x!', 'from a');
    await b.put('v2/cat/x!', 'from b');
    assert.equal((await a.get('v2/cat/x!')).toString(), 'from a');
    assert.equal((await b.get('v2/cat/x!')).toString(), 'from b');
    assert.deepEqual((await a.list('')).keys, ['v2/cat/x!']);
    assert.deepEqual((await whole.list('')).keys, ['a/v2/cat/x!', 'b/v2/cat/x!']);
    assert.deepEqual((await whole.listChildren('')).children, [
      { name: 'a', isPrefix: true },
      { name: 'b', isPrefix: true },
    ]);
    await a.deletePrefix('v2');
    assert.deepEqual((await whole.list('')).keys, ['b/v2/cat/x!']);
    for (const store of [a, b, whole]) store.destroy();
  });

  it('a reader pausing longer than the attempt timeout (backpressure) is not taken for a stalled download', async () => {
    const store = await freshStore({ operationAttemptTimeoutSecs: 0.2 });
    const body = randomBytes(2 * MiB);
    await store.put('big', body);
    const chunks: Buffer[] = [];
    for await (const chunk of await store.getStream('big')) {
      chunks.push(chunk as Buffer);
      if (chunks.length === 1) await sleep(500);
    }
    assert.deepEqual(Buffer.concat(chunks), body);
    store.destroy();
  });

  it('getStream past the end is empty; an invalid range or limit is a RangeError', async () => {
    const store = await freshStore();
    await store.put('r', '0123');
    assert.equal((await readAll(await store.getStream('r', { start: 4 }))).length, 0);
    await assert.rejects(store.getStream('r', { start: 3, end: 1 }), RangeError);
    await assert.rejects(store.list('', { limit: 0 }), RangeError);
    await assert.rejects(store.put('a//b', 'x'), /invalid storage key/);
    store.destroy();
  });
});

describe('S3ObjectStore uploads across a storage outage', () => {
  // A gateway of this suite's own: stopping it is a real outage (connections refused) no other test sees.
  let fixture: RgwFixture;
  before(async () => {
    fixture = await RgwFixture.start({ ownGateway: true });
  });
  after(() => fixture?.close());

  it('a write failing on storage commits nothing; parts it left are replaced by the next write', async () => {
    const store = new S3ObjectStore(fixture.options({ maxAttempts: 1 }));
    const key = 'v2/repositories/app/_uploads/u6/data';
    const kept = createHash('sha256');
    await store.createUpload(key);
    await store.writeUpload(key, generated(1 * MiB, MiB, 12, kept));
    // The stream reads ahead, so the second chunk waits until part 1 (old remainder + 4 MiB) has landed; the outage
    // starts then, and part 2 meets a stopped server.
    const partLanded = async () => (await fixture.uploads()).some((upload) => upload.parts[0] === 5 * MiB);
    async function* outageMidWrite(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(5 * MiB, 1);
      for (let tries = 0; tries < 500 && !(await partLanded()); tries++) await sleep(10);
      await fixture.stop();
      yield Buffer.alloc(5 * MiB, 2);
    }
    await assert.rejects(store.writeUpload(key, Readable.from(outageMidWrite())));
    await fixture.resume();
    assert.equal(await store.uploadSize(key), 1 * MiB, 'the failed write committed nothing');
    assert.deepEqual((await fixture.uploads()).map((upload) => upload.parts), [[5 * MiB]], 'it did leave a part');
    await store.writeUpload(key, generated(7 * MiB, MiB, 13, kept));
    assert.equal(await store.completeUpload(key), 8 * MiB);
    assert.equal(await sha256OfStream(await store.getStream(key)), kept.digest('hex'));
    store.destroy();
  });
});

describe('S3ObjectStore against a server that ignores If-None-Match (plain s3rver)', () => {
  // s3rver as it is ignores If-None-Match on PutObject: the real example of a server whose creates are advisory.
  let fixture: PlainS3rver;
  before(async () => {
    fixture = await PlainS3rver.start();
  });
  after(() => fixture?.close());

  it('degrades to advisory creates and warns once', async () => {
    const store = new S3ObjectStore(fixture.options());
    const warnings = await ifNoneMatchWarnings(async () => {
      assert.equal(await store.createIfAbsent('markers/one', 'first'), true);
      assert.equal(await store.createIfAbsent('markers/one', 'second'), false);
      assert.equal(await store.createIfAbsent('markers/two', 'x'), true);
    });
    assert.equal((await store.get('markers/one')).toString(), 'first');
    assert.equal(warnings.length, 1, warnings.join(''));
    assert.deepEqual((await store.list('')).keys, ['markers/one', 'markers/two'], 'the probe key is removed');
    store.destroy();
  });
});

describe('S3ObjectStore circuit breaker against a stopped RGW gateway', () => {
  // A gateway of this suite's own: stopping it is a real outage (connections refused) no other test sees.
  let fixture: RgwFixture;
  before(async () => {
    fixture = await RgwFixture.start({ ownGateway: true });
  });
  after(() => fixture?.close());

  it('opens after N consecutive failures, fails fast, and closes after a successful half-open probe', async () => {
    const store = new S3ObjectStore(
      fixture.options({ maxAttempts: 1, circuitBreakerThreshold: 3, circuitBreakerCooldownSecs: 1, operationAttemptTimeoutSecs: 5 }),
    );
    await store.put('k', 'v');
    for (let i = 0; i < 5; i++) {
      await assert.rejects(store.head(`absent-${i}`), (err) => isNotFound(err));
    }
    assert.equal(store.circuitOpen, false, 'NotFound is not a failure');

    await fixture.stop();
    for (let i = 0; i < 3; i++) {
      await assert.rejects(store.get('k'), (err) => !(err instanceof CircuitOpenError) && !isNotFound(err));
    }
    assert.equal(store.circuitOpen, true);
    await assert.rejects(store.get('k'), CircuitOpenError);
    assert.match(await store.presign('k', 60), /X-Amz-Expires=60/, 'presigning bypasses the breaker');

    await fixture.resume();
    // Wait out the cooldown; the first call after it is the probe.
    let value: Buffer | undefined;
    for (let tries = 0; value === undefined && tries < 100; tries++) {
      try {
        value = await store.get('k');
      } catch (err) {
        if (!(err instanceof CircuitOpenError)) throw err;
        await sleep(100);
      }
    }
    assert.equal(value?.toString(), 'v');
    assert.equal(store.circuitOpen, false);
    assert.equal((await store.head('k')).size, 1);
    store.destroy();
  });
});

describe('S3ObjectStore with declared capabilities (no probe)', () => {
  // Plain s3rver ignores If-None-Match; Ceph RGW enforces it.
  let ignoring: PlainS3rver;
  let enforcing: RgwFixture;
  before(async () => {
    [ignoring, enforcing] = await Promise.all([PlainS3rver.start(), RgwFixture.start()]);
  });
  after(() => Promise.all([ignoring?.close(), enforcing?.close()]));

  it('put_if_none_match = true is trusted as declared: no probe, so a server ignoring the header is not detected', async () => {
    const store = new S3ObjectStore(ignoring.options({ capabilities: { putIfNoneMatch: true, putIfMatch: true, deleteIfMatch: true } }));
    const warnings = await ifNoneMatchWarnings(async () => {
      assert.equal(await store.createIfAbsent('markers/one', 'first'), true);
      // A probe would have found the header ignored and answered false here (as the advisory test above shows).
      assert.equal(await store.createIfAbsent('markers/one', 'second'), true);
    });
    assert.deepEqual(warnings, []);
    assert.deepEqual((await store.list('')).keys, ['markers/one'], 'no probe object was ever written');
    store.destroy();
  });

  it('put_if_none_match = false means advisory creates with the one warning, even on a server that enforces it', async () => {
    const store = new S3ObjectStore(enforcing.options({ capabilities: { putIfNoneMatch: false, putIfMatch: false, deleteIfMatch: false } }));
    const warnings = await ifNoneMatchWarnings(async () => {
      assert.equal(await store.createIfAbsent('markers/a', 'first'), true);
      assert.equal(await store.createIfAbsent('markers/a', 'second'), false);
      assert.equal(await store.createIfAbsent('markers/b', 'x'), true);
    });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /capabilities\.put_if_none_match = false/);
    assert.equal((await store.get('markers/a')).toString(), 'first');
    store.destroy();
  });
});

/** The advisory-mode warnings logged (JSON lines on stdout) while `body` runs. */
async function ifNoneMatchWarnings(body: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    lines.push(String(chunk));
    return write(chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    await body();
  } finally {
    process.stdout.write = write;
  }
  return lines.filter((line) => line.includes('If-None-Match') && line.includes('"WARN"'));
}
