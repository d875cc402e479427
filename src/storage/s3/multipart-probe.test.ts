// The start-up probe against real servers: plain s3rver (no ListMultipartUploads, ListParts, AbortMultipartUpload
// or UploadPartCopy), Ceph RGW (every operation), and Ceph RGW behind a proxy refusing UploadPartCopy.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { S3_DEFAULTS } from '../../config/s3-section.ts';
import type { S3Settings } from '../../config/types.ts';
import { multipartVerdict, type MultipartOperation } from './multipart-probe.ts';
import { S3ObjectStore } from './s3-object-store.ts';
import { S3FaultProxy } from '../../../test/support/s3-fault-proxy.ts';
import { PlainS3rver } from '../../../test/support/plain-s3rver.ts';
import { RgwFixture } from '../../../test/support/rgw-fixture.ts';

const MiB = 1024 * 1024;
const DEFAULT_MODE = { multipartUniformParts: false, multipartPartSize: 50 * MiB, multipartCopyThreshold: S3_DEFAULTS.multipartCopyThreshold };

describe('multipart probe on real servers', () => {
  let plain: PlainS3rver;
  let complete: RgwFixture;
  let behindProxy: RgwFixture;
  let noPartCopy: S3FaultProxy;
  before(async () => {
    [plain, complete, behindProxy] = await Promise.all([PlainS3rver.start(), RgwFixture.start(), RgwFixture.start()]);
    // A fault mock: no server on this machine lacks UploadPartCopy, so a proxy in front of RGW answers it with
    // S3's 501 NotImplemented and forwards everything else.
    noPartCopy = await S3FaultProxy.start(behindProxy, { refuseUploadPartCopy: true });
  });
  after(async () => {
    await noPartCopy?.close();
    await Promise.all([plain?.close(), complete?.close(), behindProxy?.close()]);
  });

  async function check(server: { options(overrides: Partial<S3Settings>): S3Settings }, settings: Partial<S3Settings>): Promise<void> {
    const store = new S3ObjectStore(server.options({ keyPrefix: 'probe', ...settings }));
    try {
      await store.checkMultipartSupport();
    } finally {
      store.destroy();
    }
  }

  /** The probe's scratch upload and source object are gone from an RGW bucket. */
  async function nothingLeft(fixture: RgwFixture): Promise<void> {
    assert.deepEqual(await fixture.uploads(), []);
    assert.deepEqual([...(await fixture.objects()).keys()], []);
  }

  it('plain s3rver: refused in every mode, naming the operations no setting avoids', async () => {
    for (const multipartUniformParts of [false, true]) {
      await assert.rejects(check(plain, { multipartUniformParts, multipartPartSize: 50 * MiB }), (err: Error) => {
        assert.match(err.message, /does not implement ListMultipartUploads, ListParts and AbortMultipartUpload, which uploads need whatever blob_store\.s3\.multipart_uniform_parts says: no setting avoids them/);
        return true;
      });
    }
  });

  it('Ceph RGW, every operation present: accepted in both modes, and the probe leaves nothing behind', async () => {
    await check(complete, { multipartUniformParts: false, multipartPartSize: 50 * MiB });
    await check(complete, { multipartUniformParts: true });
    await nothingLeft(complete);
    const store = new S3ObjectStore(complete.options({ keyPrefix: 'probe' }));
    assert.deepEqual((await store.list('')).keys, []);
    store.destroy();
  });

  it('no UploadPartCopy (RGW behind a refusing proxy): the coalescing default is refused naming the setting; uniform or 5 MiB parts start', async () => {
    await assert.rejects(check(noPartCopy, { multipartUniformParts: false, multipartPartSize: 50 * MiB }), /UploadPartCopy.*set blob_store\.s3\.multipart_uniform_parts = true/);
    await check(noPartCopy, { multipartUniformParts: true, multipartPartSize: 50 * MiB });
    await check(noPartCopy, { multipartUniformParts: false, multipartPartSize: 5 * MiB });
    await nothingLeft(behindProxy);
  });
});

describe('multipartVerdict', () => {
  const verdict = (missing: MultipartOperation[], mode = DEFAULT_MODE) => multipartVerdict(new Set(missing), mode, 'blob_store.s3');

  it('nothing missing: nothing to say', () => {
    assert.deepEqual(verdict([]), { refusal: undefined, warning: undefined });
  });

  it('an operation every mode needs is refused whatever the mode', () => {
    for (const multipartUniformParts of [false, true]) {
      const { refusal } = verdict(['ListParts'], { ...DEFAULT_MODE, multipartUniformParts });
      assert.match(refusal ?? '', /does not implement ListParts, which uploads need whatever blob_store\.s3\.multipart_uniform_parts says: no setting avoids it/);
    }
  });

  it('UploadPartCopy: refused for the coalescing mode; otherwise only uploads above the copy threshold are at risk', () => {
    const coalescing = verdict(['UploadPartCopy']);
    assert.match(coalescing.refusal ?? '', /UploadPartCopy, which blob_store\.s3\.multipart_uniform_parts = false needs .* set blob_store\.s3\.multipart_uniform_parts = true, or blob_store\.s3\.multipart_part_size = "5MiB"/);
    const uniform = verdict(['UploadPartCopy'], { ...DEFAULT_MODE, multipartUniformParts: true });
    assert.equal(uniform.refusal, undefined);
    assert.match(uniform.warning ?? '', /uploads larger than blob_store\.s3\.multipart_copy_threshold \(5000000000 bytes\) will fail/);
    assert.equal(verdict(['UploadPartCopy'], { ...DEFAULT_MODE, multipartPartSize: 5 * MiB }).refusal, undefined);
  });
});
