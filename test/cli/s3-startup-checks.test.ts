// `angos server` on a real S3 server (Ceph RGW) with settings that cannot work: the start is refused, exit 1, with
// a message that names the configuration key to fix, before anything listens.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../support/free-port.ts';
import { RgwFixture, type S3Place } from '../support/rgw-fixture.ts';
import { s3StorageToml } from '../support/server.ts';
import { inTempDir, runCli, type CliResult } from './cli-process.ts';

/** `angos server` on `place` (a bucket with one setting wrong) to completion: it must exit by itself. */
async function serve(place: S3Place, extraKeys: string[] = []): Promise<CliResult> {
  const config = `[server]\nbind_address = "127.0.0.1"\nport = 0\n[global.access_policy]\ndefault = "allow"\n${s3StorageToml(place, 'checks/', extraKeys)}\n`;
  let result: CliResult | undefined;
  await inTempDir({ 'config.toml': config }, async (cwd) => {
    result = await runCli(['server'], { cwd, rustLog: 'info' });
  });
  return result!;
}

function refusal(result: CliResult): string {
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.ok(!result.logs.some((entry) => String(entry.fields.message).startsWith('Listening on')), 'nothing listened');
  return result.logs.filter((entry) => entry.level === 'ERROR').map((entry) => String(entry.fields.message)).join('\n');
}

describe('S3 start-up checks on Ceph RGW', () => {
  let fixture: RgwFixture;
  let valid: S3Place;
  before(async () => {
    fixture = await RgwFixture.start();
    valid = { endpoint: fixture.endpoint, bucket: fixture.bucket, accessKey: fixture.accessKey, secretKey: fixture.secretKey };
  });
  after(() => fixture.close());

  it('a wrong secret key: refused, naming the credential keys and the server\'s code', async () => {
    const message = refusal(await serve({ ...valid, secretKey: 'not-the-secret' }));
    assert.match(message, /refused the credentials .*SignatureDoesNotMatch, HTTP 403.*check blob_store\.s3\.access_key_id and blob_store\.s3\.secret_key/);
    assert.doesNotMatch(message, /not-the-secret/, 'the secret is never logged');
  });

  it('an unknown access key: refused the same way', async () => {
    assert.match(refusal(await serve({ ...valid, accessKey: 'nobody' })), /refused the credentials .*InvalidAccessKeyId, HTTP 403/);
  });

  it('a bucket that does not exist: refused, naming blob_store.s3.bucket', async () => {
    assert.match(refusal(await serve({ ...valid, bucket: `${fixture.bucket}-missing` })), /blob_store\.s3\.bucket ".*-missing" does not exist .*NoSuchBucket, HTTP 404/);
  });

  it('an endpoint nothing listens on: refused, naming blob_store.s3.endpoint', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    assert.match(refusal(await serve({ ...valid, endpoint }, ['max_attempts = 1'])), /blob_store\.s3\.endpoint http:\/\/127\.0\.0\.1:\d+ cannot be reached: .*ECONNREFUSED/);
  });
});
