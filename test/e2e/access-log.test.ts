// One access line per request (docs/operations.md, "Logs"): `<ms> - <code reason> <METHOD> <path>` at info with
// method, path, status, bytes, duration, identity and client IP as fields; a 5xx at error level with the fault.
// The fault is real: the storage root becomes a symlink to itself, so every path under it fails with ELOOP.
import assert from 'node:assert/strict';
import { rm, symlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { expectStatus } from '../support/expect.ts';
import { request } from '../support/http.ts';
import { imageManifest } from '../support/oci.ts';
import { pushManifest } from '../support/registry.ts';
import { startServer, type RunningServer } from '../support/server.ts';

interface LogLine {
  level: string;
  target: string;
  fields: Record<string, unknown> & { message: string };
}

const onS3 = process.env.ANGOS_TEST_STORAGE === 's3';

describe('access log', () => {
  let srv: RunningServer;

  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv.stop();
  });

  /** The access line of the one request to `path` (waiting for the server to print it). */
  async function accessLine(method: string, path: string): Promise<LogLine> {
    const matching = () => (srv.logs as unknown as LogLine[]).filter((l) => l.target === 'angos::http::access' && l.fields.method === method && l.fields.path === path);
    await waitFor(() => matching()[0]);
    assert.equal(matching().length, 1, `one access line for ${method} ${path}`);
    return matching()[0]!;
  }

  it('a served request: info, message and fields', async () => {
    const manifest = imageManifest();
    await pushManifest(srv.url, 'log/app', 'v1', manifest);
    const response = await request(srv.url, '/v2/log/app/manifests/v1?ns=ignored');
    expectStatus(response, 200);
    const line = await accessLine('GET', '/v2/log/app/manifests/v1');
    assert.equal(line.level, 'INFO');
    assert.match(line.fields.message, /^\d+ - 200 OK GET \/v2\/log\/app\/manifests\/v1$/);
    const { message: _, duration_ms, bytes, ...rest } = line.fields;
    assert.deepEqual(rest, { method: 'GET', path: '/v2/log/app/manifests/v1', status: 200, identity: null, client_ip: '127.0.0.1' });
    assert.ok(typeof duration_ms === 'number' && duration_ms >= 0);
    assert.ok(typeof bytes === 'number' && bytes > manifest.size, 'bytes sent, head included');
  });

  it('a client error is an info line with its status', async () => {
    expectStatus(await request(srv.url, '/v2/log/app/manifests/absent'), 404);
    const line = await accessLine('GET', '/v2/log/app/manifests/absent');
    assert.equal(line.level, 'INFO');
    assert.match(line.fields.message, /^\d+ - 404 Not Found GET \/v2\/log\/app\/manifests\/absent$/);
  });

  it('a 5xx is an error line carrying the fault', { skip: onS3 ? 'filesystem fault injection' : false }, async () => {
    await rm(srv.rootDir, { recursive: true, force: true });
    await symlink(srv.rootDir, srv.rootDir);
    expectStatus(await request(srv.url, '/v2/log/app/manifests/v1'), 500);
    const line = await waitFor(() => (srv.logs as unknown as LogLine[]).find((l) => l.target === 'angos::http::access' && l.fields.status === 500));
    assert.equal(line.level, 'ERROR');
    assert.match(line.fields.message, /^\d+ - 500 Internal Server Error GET \/v2\/log\/app\/manifests\/v1$/);
    assert.match(String((line.fields.error as { message?: unknown }).message), /ELOOP/);
  });
});

async function waitFor<T>(find: () => T | undefined): Promise<T> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const found = find();
    if (found !== undefined) return found;
    await sleep(20);
  }
  assert.fail('the expected log line never came');
}
