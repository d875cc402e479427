import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openS3Store } from '../open-store.ts';
import { parseS3Options, S3_DEFAULTS } from './s3-options.ts';
import { S3ObjectStore } from './s3-object-store.ts';

const CONNECTION = {
  endpoint: 'http://127.0.0.1:9000',
  bucket: 'registry',
  region: 'eu-west-1',
  access_key_id: 'AKIA',
  secret_key: 'secret',
};

describe('parseS3Options', () => {
  it('fills the chapter 04 §2.7 defaults', () => {
    assert.deepEqual(parseS3Options({ ...CONNECTION }), {
      endpoint: 'http://127.0.0.1:9000',
      bucket: 'registry',
      region: 'eu-west-1',
      accessKeyId: 'AKIA',
      secretKey: 'secret',
      ...S3_DEFAULTS,
    });
    assert.equal(S3_DEFAULTS.multipartPartSize, 50 * 1024 * 1024);
    assert.equal(S3_DEFAULTS.presignTtlSecs, 1800);
  });

  it('reads TOML integers (bigint) and size strings', () => {
    const options = parseS3Options({
      ...CONNECTION,
      key_prefix: 'tenant/',
      multipart_part_size: '8MiB',
      max_attempts: 5n,
      operation_timeout_secs: 60n,
      operation_attempt_timeout_secs: 10n,
      circuit_breaker_threshold: 2n,
      circuit_breaker_cooldown_secs: 0n,
      presign_ttl_secs: 600n,
      multipart_uniform_parts: false,
    });
    assert.equal(options.keyPrefix, 'tenant/');
    assert.equal(options.multipartPartSize, 8 * 1024 * 1024);
    assert.equal(options.maxAttempts, 5);
    assert.equal(options.operationTimeoutSecs, 60);
    assert.equal(options.operationAttemptTimeoutSecs, 10);
    assert.equal(options.circuitBreakerThreshold, 2);
    assert.equal(options.circuitBreakerCooldownSecs, 0);
    assert.equal(options.presignTtlSecs, 600);
    assert.equal(parseS3Options({ ...CONNECTION, multipart_part_size: 5242880n }).multipartPartSize, 5 * 1024 * 1024);
  });

  it('names the key in every error', () => {
    assert.throws(() => parseS3Options({ ...CONNECTION, multipart_part_size: '4MiB' }), /Multipart part size must be at least 5MiB/);
    assert.throws(() => parseS3Options({ ...CONNECTION, multipart_part_size: 'lots' }), /blob_store\.s3\.multipart_part_size: invalid size/);
    assert.throws(() => parseS3Options({ ...CONNECTION, max_attempts: 0n }), /blob_store\.s3\.max_attempts: must be an integer of at least 1/);
    assert.throws(() => parseS3Options({ ...CONNECTION, presign_ttl_secs: '1h' }), /blob_store\.s3\.presign_ttl_secs: expected an integer/);
    assert.throws(() => parseS3Options({ ...CONNECTION, endpoint: 'ftp://x' }), /blob_store\.s3\.endpoint: expected an http\(s\) URL/);
    const { bucket: _omitted, ...noBucket } = CONNECTION;
    assert.throws(() => parseS3Options(noBucket, 'metadata_store.s3'), /metadata_store\.s3\.bucket: is required/);
    assert.throws(() => parseS3Options({ ...CONNECTION, key_prefix: 7n }), /blob_store\.s3\.key_prefix: expected a string/);
  });

  it('openS3Store builds an S3ObjectStore from the raw table; a bad part size is refused there too', async () => {
    const store = await openS3Store({ ...CONNECTION, presign_ttl_secs: 900n });
    assert.ok(store instanceof S3ObjectStore);
    assert.equal(store.presignTtlSecs, 900);
    assert.equal(store.bucket, 'registry');
    store.destroy();
    await assert.rejects(openS3Store({ ...CONNECTION, multipart_part_size: '1MiB' }), /at least 5MiB/);
    assert.throws(() => new S3ObjectStore({ ...parseS3Options(CONNECTION), multipartPartSize: 1024 }), /at least 5MiB/);
  });
});
