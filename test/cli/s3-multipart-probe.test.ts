// `angos server` on an S3 server lacking multipart operations (docs/configuration.md, `[blob_store.s3]`): the start
// is refused, exit 1, naming the missing operation and the setting that avoids it, instead of a server that answers
// 500 to every upload. Plain s3rver (test/support/plain-s3rver.ts) is the real example of a server lacking
// ListMultipartUploads, ListParts, AbortMultipartUpload and UploadPartCopy; a server lacking only UploadPartCopy is
// the Ceph RADOS Gateway behind a fault mock that answers UploadPartCopy 501 (test/support/s3-fault-proxy.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { S3FaultProxy } from '../support/s3-fault-proxy.ts';
import { PlainS3rver } from '../support/plain-s3rver.ts';
import { RgwFixture, type S3Place } from '../support/rgw-fixture.ts';
import { s3StorageToml, startServer } from '../support/server.ts';
import { inTempDir, runCli, type CliResult } from './cli-process.ts';

const SERVER = '[server]\nbind_address = "127.0.0.1"\nport = 0\n[global.access_policy]\ndefault = "allow"\n';

/** `[blob_store.s3]` on `place` with 50 MiB parts (the shared helper sets 5 MiB, which never coalesces). */
function storage(place: S3Place, extraKeys: string[] = []): string {
  return s3StorageToml(place, 'probe/', extraKeys).replace('multipart_part_size = "5MiB"', 'multipart_part_size = "50MiB"');
}

/** `angos server` with `storage` to completion: it must exit by itself. */
async function serve(storage: string): Promise<CliResult> {
  let result: CliResult | undefined;
  await inTempDir({ 'config.toml': `${SERVER}${storage}\n` }, async (cwd) => {
    result = await runCli(['server'], { cwd, rustLog: 'info' });
  });
  return result!;
}

function errors(result: CliResult): string[] {
  return result.logs.filter((entry) => entry.level === 'ERROR').map((entry) => String(entry.fields.message));
}

function listened(result: CliResult): boolean {
  return result.logs.some((entry) => String(entry.fields.message).startsWith('Listening on'));
}

describe('S3 multipart capability probe at start-up', () => {
  let plain: PlainS3rver;
  let rgw: RgwFixture;
  let noPartCopy: S3FaultProxy;
  before(async () => {
    [plain, rgw] = await Promise.all([PlainS3rver.start(), RgwFixture.start()]);
    // A fault mock: every request reaches the real gateway except UploadPartCopy, answered 501 NotImplemented.
    noPartCopy = await S3FaultProxy.start(rgw, { refuseUploadPartCopy: true });
  });
  after(async () => {
    await Promise.all([plain?.close(), noPartCopy?.close()]);
    await rgw?.close();
  });

  it('plain s3rver: exit 1 naming the operations every multipart mode needs, in either mode', async () => {
    for (const mode of ['multipart_uniform_parts = false', 'multipart_uniform_parts = true']) {
      const result = await serve(storage(plain, [mode]));
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.ok(!listened(result), 'nothing listened');
      const [message = ''] = errors(result);
      assert.match(message, /^Server error: /);
      assert.match(message, /does not implement ListMultipartUploads, ListParts and AbortMultipartUpload/);
      assert.match(message, /blob_store\.s3\.multipart_uniform_parts says: no setting avoids them/);
    }
  });

  it('no UploadPartCopy: the coalescing mode is refused naming multipart_uniform_parts; uniform parts start', async () => {
    const refused = await serve(storage(noPartCopy));
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.ok(!listened(refused));
    assert.match(errors(refused)[0] ?? '', /^Server error: .*does not implement UploadPartCopy.*set blob_store\.s3\.multipart_uniform_parts = true/);

    const server = await startServer({ storageToml: storage(noPartCopy, ['multipart_uniform_parts = true']) });
    try {
      const warnings = server.logs.filter((entry) => entry.level === 'WARN').map((entry) => String((entry.fields as { message?: string }).message));
      assert.ok(warnings.some((message) => message.includes('UploadPartCopy') && message.includes('multipart_copy_threshold')), warnings.join('\n'));
    } finally {
      assert.equal(await server.stop(), 0, 'a SIGTERM right after start-up drains and exits 0');
    }
  });
});
