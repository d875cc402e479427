import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { CreateMultipartUploadCommand } from '@aws-sdk/client-s3';
import { newSessionId, type SessionId } from '../oci/session-id.ts';
import type { Namespace } from '../oci/name.ts';
import { uploadKeys } from '../registry/keys.ts';
import { S3ObjectStore } from '../storage/s3/s3-object-store.ts';
import { Actions } from './actions.ts';
import { scrubMultipart, sessionOf, type MultipartStore } from './multipart-scrub.ts';
import { RgwFixture } from '../../test/support/rgw-fixture.ts';

const MiB = 1024 * 1024;
const HOUR = 3_600_000;
const ns = 'team/app' as Namespace;

describe('sessionOf', () => {
  const id = newSessionId();
  it('accepts upload data keys and scratch uploads of a session folder, nothing else', () => {
    assert.deepEqual(sessionOf({ key: uploadKeys.data(ns, id) }), { ns, id });
    assert.deepEqual(sessionOf({ key: `${uploadKeys.session(ns, id)}/staged/coalesce`, scratchOf: uploadKeys.session(ns, id) }), { ns, id });
    assert.equal(sessionOf({ key: `v2/repositories/team/app/_uploads/not-a-uuid/data` }), undefined);
    assert.equal(sessionOf({ key: `v2/repositories/Team/_uploads/${id}/data` }), undefined, 'invalid namespace');
    assert.equal(sessionOf({ key: `${uploadKeys.session(ns, id)}/other` }), undefined);
    assert.equal(sessionOf({ key: 'v2/blobs/sha256/ab/abcd/data' }), undefined);
    assert.equal(sessionOf({ key: uploadKeys.session(ns, id) }), undefined, 'a folder is only a scratch owner');
  });
});

describe('scrubMultipart on Ceph RGW', () => {
  let fixture: RgwFixture;
  let store: S3ObjectStore;
  const prefix = `scrub-${randomBytes(4).toString('hex')}`;
  const ids: Record<'orphan' | 'live' | 'scratch' | 'unprobed', SessionId> = {
    orphan: newSessionId(),
    live: newSessionId(),
    scratch: newSessionId(),
    unprobed: newSessionId(),
  };
  const foreign = 'v2/blobs/sha256/ab/abcd/data';

  before(async () => {
    fixture = await RgwFixture.start();
    store = new S3ObjectStore(fixture.options({ keyPrefix: prefix }));
    for (const id of [ids.orphan, ids.live, ids.unprobed]) {
      await store.createUpload(uploadKeys.data(ns, id));
      await store.writeUpload(uploadKeys.data(ns, id), Readable.from([Buffer.alloc(6 * MiB)]));
    }
    await store.put(uploadKeys.state(ns, ids.live), '{}');
    // What a coalescing write that died mid-way leaves, and a promotion copy in flight: made with the bare client.
    for (const key of [`${uploadKeys.session(ns, ids.scratch)}/staged/coalesce`, foreign]) {
      await fixture.client.send(new CreateMultipartUploadCommand({ Bucket: fixture.bucket, Key: `${prefix}/${key}` }));
    }
  });
  after(async () => {
    store?.destroy();
    await fixture?.close();
  });

  /** The store with the session-record probe of one session failing, the way an S3 outage mid-run would. */
  const flaky: MultipartStore = {
    listMultipartUploads: (p) => store.listMultipartUploads(p),
    abortMultipartUpload: (key, uploadId) => store.abortMultipartUpload(key, uploadId),
    head: (key) => (key === uploadKeys.state(ns, ids.unprobed) ? Promise.reject(new Error('S3 unreachable')) : store.head(key)),
  };
  const openKeys = async () => (await store.listMultipartUploads('')).map((upload) => upload.key).sort();
  const everything = () => [
    uploadKeys.data(ns, ids.orphan),
    uploadKeys.data(ns, ids.live),
    uploadKeys.data(ns, ids.unprobed),
    `${uploadKeys.session(ns, ids.scratch)}/staged/coalesce`,
    foreign,
  ].sort();

  it('keeps uploads younger than the duration', async () => {
    assert.deepEqual(await scrubMultipart(flaky, { olderThanMs: HOUR }, new Actions(false)), { aborted: 0, kept: 5, failures: 0 });
    assert.deepEqual(await openKeys(), everything());
  });

  it('dry run: counts what it would abort, aborts nothing', async () => {
    const later = new Date(Date.now() + 2 * HOUR);
    assert.deepEqual(await scrubMultipart(flaky, { olderThanMs: HOUR, now: later }, new Actions(true)), { aborted: 2, kept: 3, failures: 1 });
    assert.deepEqual(await openKeys(), everything());
  });

  it('aborts old orphans (data and scratch keys); keeps a live session, a failed probe and a foreign key', async () => {
    const later = new Date(Date.now() + 2 * HOUR);
    assert.deepEqual(await scrubMultipart(flaky, { olderThanMs: HOUR, now: later }, new Actions(false)), { aborted: 2, kept: 3, failures: 1 });
    assert.deepEqual(await openKeys(), [uploadKeys.data(ns, ids.live), uploadKeys.data(ns, ids.unprobed), foreign].sort());
    await store.writeUpload(uploadKeys.data(ns, ids.live), Readable.from([Buffer.alloc(10)]));
    assert.equal(await store.completeUpload(uploadKeys.data(ns, ids.live)), 6 * MiB + 10, 'the live session is intact');
  });
});
