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

  it('reads the multipart mode and copy keys, validating the copy chunk size as a part size', () => {
    const options = parseS3Options({
      ...CONNECTION,
      multipart_uniform_parts: true,
      multipart_copy_threshold: '1GB',
      multipart_copy_chunk_size: '64MiB',
      multipart_copy_jobs: 8n,
    });
    assert.equal(options.multipartUniformParts, true);
    assert.equal(options.multipartCopyThreshold, 1_000_000_000);
    assert.equal(options.multipartCopyChunkSize, 64 * 1024 * 1024);
    assert.equal(options.multipartCopyJobs, 8);
    assert.equal(S3_DEFAULTS.multipartCopyThreshold, 5_000_000_000);
    assert.equal(S3_DEFAULTS.multipartCopyChunkSize, 100_000_000);
    assert.equal(S3_DEFAULTS.multipartCopyJobs, 4);
    assert.equal(S3_DEFAULTS.multipartUniformParts, false);
    assert.throws(() => parseS3Options({ ...CONNECTION, multipart_copy_chunk_size: '4MiB' }), /blob_store\.s3\.multipart_copy_chunk_size: must be between 5MiB and 5GiB/);
    assert.throws(() => parseS3Options({ ...CONNECTION, multipart_copy_chunk_size: '6GiB' }), /blob_store\.s3\.multipart_copy_chunk_size: must be between 5MiB and 5GiB/);
    assert.throws(() => parseS3Options({ ...CONNECTION, multipart_copy_jobs: 0n }), /blob_store\.s3\.multipart_copy_jobs: must be an integer of at least 1/);
    assert.throws(() => parseS3Options({ ...CONNECTION, multipart_uniform_parts: 'yes' }), /blob_store\.s3\.multipart_uniform_parts: expected a boolean/);
  });

  it('reads a capabilities table, all three flags required', () => {
    const capabilities = { put_if_none_match: false, put_if_match: true, delete_if_match: false };
    assert.deepEqual(parseS3Options({ ...CONNECTION, capabilities }, 'metadata_store.s3').capabilities, {
      putIfNoneMatch: false,
      putIfMatch: true,
      deleteIfMatch: false,
    });
    assert.equal(parseS3Options({ ...CONNECTION }).capabilities, undefined);
    assert.throws(
      () => parseS3Options({ ...CONNECTION, capabilities: { put_if_none_match: true, put_if_match: true } }, 'metadata_store.s3'),
      /metadata_store\.s3\.capabilities\.delete_if_match: is required/,
    );
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
