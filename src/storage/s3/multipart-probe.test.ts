// The start-up probe against real s3rver servers: plain (no ListMultipartUploads, ListParts, AbortMultipartUpload
// or UploadPartCopy), with every operation the fixture adds, and with all but UploadPartCopy.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { S3_DEFAULTS } from '../../config/s3-section.ts';
import { multipartVerdict, type MultipartOperation } from './multipart-probe.ts';
import { S3ObjectStore } from './s3-object-store.ts';
import { S3rverFixture } from './s3rver-fixture.ts';

const MiB = 1024 * 1024;
const DEFAULT_MODE = { multipartUniformParts: false, multipartPartSize: 50 * MiB, multipartCopyThreshold: S3_DEFAULTS.multipartCopyThreshold };

describe('multipart probe on s3rver', () => {
  let plain: S3rverFixture;
  let complete: S3rverFixture;
  let noPartCopy: S3rverFixture;
  before(async () => {
    [plain, complete, noPartCopy] = await Promise.all([S3rverFixture.start({ plain: true }), S3rverFixture.start(), S3rverFixture.start({ uploadPartCopy: false })]);
  });
  after(() => Promise.all([plain?.close(), complete?.close(), noPartCopy?.close()]));

  async function check(fixture: S3rverFixture, settings: Parameters<S3rverFixture['options']>[0]): Promise<void> {
    const store = new S3ObjectStore(fixture.options({ keyPrefix: 'probe', ...settings }));
    try {
      await store.checkMultipartSupport();
    } finally {
      store.destroy();
    }
  }

  it('plain s3rver: refused in every mode, naming the operations no setting avoids', async () => {
    for (const multipartUniformParts of [false, true]) {
      await assert.rejects(check(plain, { multipartUniformParts, multipartPartSize: 50 * MiB }), (err: Error) => {
        assert.match(err.message, /does not implement ListMultipartUploads, ListParts and AbortMultipartUpload, which uploads need whatever blob_store\.s3\.multipart_uniform_parts says: no setting avoids them/);
        return true;
      });
    }
  });

  it('every operation present: accepted in both modes, and the probe leaves nothing behind', async () => {
    await check(complete, { multipartUniformParts: false, multipartPartSize: 50 * MiB });
    await check(complete, { multipartUniformParts: true });
    assert.deepEqual(await complete.uploads(), []);
    const store = new S3ObjectStore(complete.options({ keyPrefix: 'probe' }));
    assert.deepEqual((await store.list('')).keys, []);
    store.destroy();
  });

  it('no UploadPartCopy: the coalescing default is refused naming the setting; uniform or 5 MiB parts start', async () => {
    await assert.rejects(check(noPartCopy, { multipartUniformParts: false, multipartPartSize: 50 * MiB }), /UploadPartCopy.*set blob_store\.s3\.multipart_uniform_parts = true/);
    await check(noPartCopy, { multipartUniformParts: true, multipartPartSize: 50 * MiB });
    await check(noPartCopy, { multipartUniformParts: false, multipartPartSize: 5 * MiB });
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
