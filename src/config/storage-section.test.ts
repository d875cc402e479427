import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseS3Options } from '../storage/s3/s3-options.ts';
import { ConfigValueError } from './table-reader.ts';
import { parse } from 'smol-toml';
import { validateConfig } from './validate.ts';

const SERVER = '[server]\nbind_address = "127.0.0.1"\n';
const S3_KEYS = 'access_key_id = "AKIA"\nsecret_key = "s3cret"\nendpoint = "http://127.0.0.1:9000"\nbucket = "b"\nregion = "us-east-1"\n';
const load = (toml: string) => validateConfig(parse(toml, { integersAsBigInt: true }));

test('capabilities: all three flags required; declared on the blob store, they reach an inherited metadata store', () => {
  const flags = 'put_if_none_match = false\nput_if_match = true\ndelete_if_match = false\n';
  const config = load(`${SERVER}[blob_store.s3]\n${S3_KEYS}[blob_store.s3.capabilities]\n${flags}`);
  assert.ok(config.metadataStore.kind === 's3');
  assert.deepEqual(parseS3Options(config.metadataStore.settings, 'metadata_store.s3').capabilities, { putIfNoneMatch: false, putIfMatch: true, deleteIfMatch: false });
  const own = load(`${SERVER}[blob_store.s3]\n${S3_KEYS}[metadata_store.s3]\n${S3_KEYS}[metadata_store.s3.capabilities]\n${flags.replace('false', 'true')}`);
  assert.ok(own.metadataStore.kind === 's3');
  assert.equal(parseS3Options(own.metadataStore.settings, 'metadata_store.s3').capabilities?.putIfNoneMatch, true);
  assert.throws(
    () => load(`${SERVER}[blob_store.s3]\n${S3_KEYS}[metadata_store.s3]\n${S3_KEYS}[metadata_store.s3.capabilities]\nput_if_none_match = true\nput_if_match = true\n`),
    (error: unknown) => error instanceof ConfigValueError && /metadata_store\.s3\.capabilities.*delete_if_match/.test(error.message),
  );
  const plain = load(`${SERVER}[blob_store.s3]\n${S3_KEYS}`).metadataStore;
  assert.ok(plain.kind === 's3' && !('capabilities' in plain.settings), 'absent stays absent: the probe runs');
});
