import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'smol-toml';
import { openS3Store } from '../storage/open-store.ts';
import { S3ObjectStore } from '../storage/s3/s3-object-store.ts';
import { S3_DEFAULTS } from './s3-section.ts';
import { ConfigValueError } from './table-reader.ts';
import type { Config, S3Settings } from './types.ts';
import { validateConfig } from './validate.ts';

const SERVER = '[server]\nbind_address = "127.0.0.1"\n';
const S3_KEYS = 'access_key_id = "AKIA"\nsecret_key = "s3cret"\nendpoint = "http://127.0.0.1:9000"\nbucket = "b"\nregion = "us-east-1"\n';
const CONNECTION = { endpoint: 'http://127.0.0.1:9000', bucket: 'b', region: 'us-east-1', accessKeyId: 'AKIA', secretKey: 's3cret' };

const load = (toml: string): Config => validateConfig(parse(SERVER + toml, { integersAsBigInt: true }));

function failure(toml: string): string {
  let message = '';
  assert.throws(() => load(toml), (error: unknown) => {
    message = error instanceof ConfigValueError ? error.message : '';
    return error instanceof ConfigValueError;
  });
  return message;
}

/** `[blob_store.s3]` with the connection keys and `keys`, parsed. */
function blob(keys = ''): S3Settings {
  const { blobStore } = load(`[blob_store.s3]\n${S3_KEYS}${keys}`);
  assert.ok(blobStore.kind === 's3');
  return blobStore.settings;
}

test('defaults fill every optional key', () => {
  assert.deepEqual(blob(), { ...S3_DEFAULTS, ...CONNECTION });
  assert.equal(S3_DEFAULTS.multipartPartSize, 50 * 1024 * 1024);
  assert.equal(S3_DEFAULTS.multipartCopyThreshold, 5_000_000_000);
  assert.equal(S3_DEFAULTS.multipartCopyChunkSize, 100_000_000);
  assert.equal(S3_DEFAULTS.multipartCopyJobs, 4);
  assert.equal(S3_DEFAULTS.multipartUniformParts, false);
  assert.equal(S3_DEFAULTS.presignTtlSecs, 1800);
});

test('every key is read: integers, size strings, booleans', () => {
  const settings = blob(
    'key_prefix = "tenant/"\nmultipart_part_size = "8MiB"\nmultipart_uniform_parts = true\nmultipart_copy_threshold = "1GB"\n' +
      'multipart_copy_chunk_size = "64MiB"\nmultipart_copy_jobs = 8\nmax_attempts = 5\noperation_timeout_secs = 60\n' +
      'operation_attempt_timeout_secs = 10\ncircuit_breaker_threshold = 2\ncircuit_breaker_cooldown_secs = 0\npresign_ttl_secs = 600\n',
  );
  assert.deepEqual(settings, {
    ...CONNECTION,
    keyPrefix: 'tenant/',
    multipartPartSize: 8 * 1024 * 1024,
    multipartUniformParts: true,
    multipartCopyThreshold: 1_000_000_000,
    multipartCopyChunkSize: 64 * 1024 * 1024,
    multipartCopyJobs: 8,
    maxAttempts: 5,
    operationTimeoutSecs: 60,
    operationAttemptTimeoutSecs: 10,
    circuitBreakerThreshold: 2,
    circuitBreakerCooldownSecs: 0,
    presignTtlSecs: 600,
    capabilities: undefined,
  });
  assert.equal(blob('multipart_part_size = 5242880\n').multipartPartSize, 5 * 1024 * 1024);
});

test('every refusal names the key; part sizes are checked at load', () => {
  const s3 = (keys: string) => failure(`[blob_store.s3]\n${S3_KEYS}${keys}`);
  assert.equal(s3('multipart_part_size = "4MiB"\n'), 'blob_store.s3.multipart_part_size: Multipart part size must be at least 5MiB, got 4194304 bytes');
  assert.equal(s3('multipart_part_size = "6GiB"\n'), 'blob_store.s3.multipart_part_size: Multipart part size must be at most 5GiB, got 6442450944 bytes');
  assert.match(s3('multipart_part_size = "lots"\n'), /^blob_store\.s3\.multipart_part_size: invalid size 'lots'/);
  assert.equal(s3('multipart_copy_chunk_size = "4MiB"\n'), 'blob_store.s3.multipart_copy_chunk_size: must be between 5MiB and 5GiB, got 4194304 bytes');
  assert.equal(s3('multipart_copy_chunk_size = "6GiB"\n'), 'blob_store.s3.multipart_copy_chunk_size: must be between 5MiB and 5GiB, got 6442450944 bytes');
  for (const key of ['max_attempts', 'multipart_copy_jobs', 'operation_timeout_secs', 'operation_attempt_timeout_secs', 'circuit_breaker_threshold', 'presign_ttl_secs']) {
    assert.equal(s3(`${key} = 0\n`), `blob_store.s3.${key} must be > 0, got 0`);
  }
  assert.equal(s3('circuit_breaker_cooldown_secs = -1\n'), 'blob_store.s3.circuit_breaker_cooldown_secs must not be negative, got -1');
  assert.equal(s3('presign_ttl_secs = "1h"\n'), 'blob_store.s3.presign_ttl_secs: invalid type: expected an integer, found string "1h"');
  assert.equal(s3('multipart_uniform_parts = "yes"\n'), 'blob_store.s3.multipart_uniform_parts: invalid type: expected a boolean, found string "yes"');
  assert.equal(s3('key_prefix = 7\n'), 'blob_store.s3.key_prefix: invalid type: expected a string, found integer 7');
  assert.match(failure(`[blob_store.s3]\n${S3_KEYS.replace('http://127.0.0.1:9000', 'ftp://x')}`), /^blob_store\.s3\.endpoint: expected an http\(s\) URL, got 'ftp:\/\/x'/);
  assert.equal(failure(`[blob_store.s3]\n${S3_KEYS.replace('bucket = "b"', 'bucket = ""')}`), 'blob_store.s3.bucket must not be empty');
  // A secret is named, never shown.
  assert.equal(failure(`[blob_store.s3]\n${S3_KEYS.replace('secret_key = "s3cret"', 'secret_key = ""')}`), 'blob_store.s3.secret_key must not be empty');
  assert.equal(failure(`[blob_store.s3]\n${S3_KEYS.replace('"s3cret"', '12345')}`), 'blob_store.s3.secret_key: invalid type: expected a string, found an integer');
});

test('capabilities: all three flags required; declared on the blob store, they reach an inherited metadata store', () => {
  const flags = 'put_if_none_match = false\nput_if_match = true\ndelete_if_match = false\n';
  const inherited = load(`[blob_store.s3]\n${S3_KEYS}[blob_store.s3.capabilities]\n${flags}`).metadataStore;
  assert.ok(inherited.kind === 's3' && inherited.inherited);
  assert.deepEqual(inherited.settings.capabilities, { putIfNoneMatch: false, putIfMatch: true, deleteIfMatch: false });
  const own = load(`[blob_store.s3]\n${S3_KEYS}[metadata_store.s3]\n${S3_KEYS}[metadata_store.s3.capabilities]\n${flags.replace('false', 'true')}`).metadataStore;
  assert.ok(own.kind === 's3');
  assert.equal(own.settings.capabilities?.putIfNoneMatch, true);
  assert.match(
    failure(`[blob_store.s3]\n${S3_KEYS}[metadata_store.s3]\n${S3_KEYS}[metadata_store.s3.capabilities]\nput_if_none_match = true\nput_if_match = true\n`),
    /^metadata_store\.s3\.capabilities: missing field 'delete_if_match'/,
  );
  assert.equal(blob().capabilities, undefined, 'absent stays absent: the probe runs');
});

test('an inherited metadata store takes the connection, prefix and capabilities, and defaults for the rest', () => {
  const config = load(`[blob_store.s3]\n${S3_KEYS}key_prefix = "p/"\nmultipart_part_size = "8MiB"\nmax_attempts = 9\npresign_ttl_secs = 60\n`);
  assert.deepEqual(config.metadataStore, {
    kind: 's3',
    settings: { ...S3_DEFAULTS, ...CONNECTION, keyPrefix: 'p/' },
    inherited: true,
    linkCacheTtlSecs: 30,
    accessTimeDebounceSecs: 60,
  });
});

test('link_cache_ttl and access_time_debounce_secs belong to [metadata_store.s3]', () => {
  const own = load(`[blob_store.s3]\n${S3_KEYS}[metadata_store.s3]\n${S3_KEYS}link_cache_ttl = 0\naccess_time_debounce_secs = 5\n`).metadataStore;
  assert.ok(own.kind === 's3' && !own.inherited);
  assert.deepEqual([own.linkCacheTtlSecs, own.accessTimeDebounceSecs], [0, 5]);
  assert.equal(failure(`[blob_store.s3]\n${S3_KEYS}[metadata_store.s3]\n${S3_KEYS}link_cache_ttl = -1\n`), 'metadata_store.s3.link_cache_ttl must not be negative, got -1');
  // In the blob store they mean nothing: reported as unknown, not silently taken.
  assert.deepEqual(load(`[blob_store.s3]\n${S3_KEYS}link_cache_ttl = 0\n`).warnings, ['Unknown configuration keys ignored: blob_store.s3.link_cache_ttl']);
});

test('openS3Store builds an S3ObjectStore from the typed settings; built in code, an illegal part size is refused', async () => {
  const store = await openS3Store({ ...blob(), presignTtlSecs: 900 });
  assert.ok(store instanceof S3ObjectStore);
  assert.equal(store.presignTtlSecs, 900);
  assert.equal(store.bucket, 'b');
  store.destroy();
  assert.throws(() => new S3ObjectStore({ ...blob(), multipartPartSize: 1024 }), /at least 5MiB/);
  assert.throws(() => new S3ObjectStore({ ...blob(), multipartCopyChunkSize: 1024 }), /between 5MiB and 5GiB/);
});
