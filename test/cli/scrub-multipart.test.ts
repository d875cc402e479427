// `angos scrub --multipart` end to end (docs/storage.md, "S3 uploads"): the real command as a child process against
// a bucket of the run's Ceph RADOS Gateway, with S3 state made through the store itself.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Namespace } from '../../src/oci/name.ts';
import { newSessionId } from '../../src/oci/session-id.ts';
import { uploadKeys } from '../../src/registry/keys.ts';
import { S3ObjectStore } from '../../src/storage/s3/s3-object-store.ts';
import { freePort } from '../support/free-port.ts';
import { RgwFixture, type S3Place } from '../support/rgw-fixture.ts';
import { s3StorageToml } from '../support/server.ts';
import { inTempDir, MINIMAL_CONFIG, runCli, type CliResult } from './cli-process.ts';

const MiB = 1024 * 1024;
const ns = 'shop/cart' as Namespace;

describe('scrub --multipart on S3', () => {
  let fixture: RgwFixture;
  let store: S3ObjectStore;
  const prefix = `scrub-cli-${randomBytes(4).toString('hex')}`;
  const orphan = uploadKeys.data(ns, newSessionId());
  const liveId = newSessionId();
  const live = uploadKeys.data(ns, liveId);

  before(async () => {
    fixture = await RgwFixture.start();
    store = new S3ObjectStore(fixture.options({ keyPrefix: prefix }));
    for (const key of [orphan, live]) {
      await store.createUpload(key);
      await store.writeUpload(key, Readable.from([Buffer.alloc(6 * MiB, 7)]));
    }
    await store.put(uploadKeys.state(ns, liveId), '{}');
    // `-p 1s` below: both must have been initiated at least a second ago.
    await sleep(1100);
  });
  after(async () => {
    store?.destroy();
    await fixture?.close();
  });

  const config = () => `[server]\nbind_address = "127.0.0.1"\nport = 0\n${s3StorageToml(fixture, prefix)}\n`;
  const scrub = (args: string[]) => inTempDirResult(config(), ['-c', 'config.toml', 'scrub', ...args]);
  const openKeys = async () => (await store.listMultipartUploads('')).map((upload) => upload.key).sort();
  const messages = (result: CliResult) => result.logs.map((log) => String(log.fields.message));

  it('dry run logs the orphan it would abort and aborts nothing', async () => {
    const result = await scrub(['-p', '1s', '--dry-run']);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(messages(result).some((message) => message.startsWith(`DRY RUN: would abort orphan multipart upload '${orphan}' (`)), result.stdout);
    assert.ok(!messages(result).some((message) => message.includes(live)), 'the live session is no candidate');
    assert.deepEqual(await openKeys(), [orphan, live].sort());
  });

  it('aborts the session-less multipart upload, keeps the live session and its bytes', async () => {
    const result = await scrub(['--multipart', '1s']);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(messages(result).some((message) => message.startsWith(`abort orphan multipart upload '${orphan}' (`)), result.stdout);
    assert.deepEqual(await openKeys(), [live]);
    assert.equal(await store.completeUpload(live), 6 * MiB);
  });

  it('an unreachable S3 at start is a start-up failure: exit 1 before any check', async () => {
    // The bucket's credentials at a loopback port nothing listens on: every connection is refused.
    const down: S3Place = { endpoint: `http://127.0.0.1:${await freePort()}`, bucket: fixture.bucket, accessKey: fixture.accessKey, secretKey: fixture.secretKey };
    const result = await inTempDirResult(`[server]\nbind_address = "127.0.0.1"\nport = 0\n${s3StorageToml(down, prefix, ['max_attempts = 1'])}\n`, [
      'scrub',
      '-p',
      '1s',
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Scrub error: metadata store unreachable/);
    assert.ok(!result.logs.some((log) => String(log.fields.message).includes('multipart scrub finished')), 'no check ran');
  });
});

describe('scrub command without --multipart work to do', () => {
  it('on a filesystem blob store --multipart says it is S3-only and exits 0', async () => {
    const result = await inTempDirResult(MINIMAL_CONFIG, ['scrub', '-p', '1s']);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.logs.some((log) => log.level === 'WARN' && String(log.fields.message).includes('--multipart is S3-only')), result.stdout);
  });

  it('no check flag: a warning and exit 0; an unimplemented check: refused with exit 1 before any work', async () => {
    const none = await inTempDirResult(MINIMAL_CONFIG, ['scrub']);
    assert.equal(none.code, 0, none.stderr);
    assert.ok(none.logs.some((log) => log.level === 'WARN' && String(log.fields.message).includes('no checks selected')), none.stdout);
    const other = await inTempDirResult(MINIMAL_CONFIG, ['scrub', '-p', '1s', '--replicate']);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /not implemented yet for --replicate/);
    assert.ok(!other.logs.some((log) => String(log.fields.message).includes('S3-only')), 'nothing ran');
  });
});

async function inTempDirResult(configToml: string, args: string[]): Promise<CliResult> {
  let result: CliResult | undefined;
  await inTempDir({ 'config.toml': configToml }, async (cwd) => {
    result = await runCli(args, { cwd });
  });
  return result!;
}
