// Hot reload (docs/operations.md, "Hot reload"): the running server re-reads its configuration file. Among the
// cases, rotating the token-service key revokes tokens without a restart.
import assert from 'node:assert/strict';
import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { expectStatus } from '../support/expect.ts';
import { request, send } from '../support/http.ts';
import { content } from '../support/oci.ts';
import { headBlob, pushBlob } from '../support/registry.ts';
import { startServer, type RunningServer } from '../support/server.ts';

function messages(srv: RunningServer): string[] {
  return srv.logs.map((entry) => String((entry.fields as { message?: string }).message));
}

/** Waits (bounded, ~10 s) until a log line satisfies `match`; returns whether one did. */
async function waitForLog(srv: RunningServer, match: (message: string) => boolean): Promise<boolean> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (messages(srv).some(match)) return true;
    await sleep(100);
  }
  return false;
}

async function uiName(srv: RunningServer): Promise<unknown> {
  const response = await request(srv.url, '/v2/_angos/ui/config');
  expectStatus(response, 200);
  return (JSON.parse(response.body.toString()) as { name: unknown }).name;
}

describe('configuration hot reload', () => {
  let srv: RunningServer;
  let original: string;
  before(async () => {
    srv = await startServer({ extraToml: '[ui]\nenabled = true\nname = "First"\n' });
    original = await readFile(srv.configPath, 'utf8');
  });
  after(async () => {
    await srv.stop();
  });

  it('a changed ui.name is served after the reload, which is logged', async () => {
    assert.equal(await uiName(srv), 'First');
    const reloads = messages(srv).filter((m) => m === 'Configuration reloaded').length;
    await writeFile(srv.configPath, original.replace('name = "First"', 'name = "Second"'));
    assert.ok(await waitForLog(srv, () => messages(srv).filter((m) => m === 'Configuration reloaded').length > reloads));
    assert.equal(await uiName(srv), 'Second');
  });

  it('a reload adding a required event webhook is refused as the start would be; the old configuration keeps serving', async () => {
    const gated = original.replace('name = "First"', 'name = "Gated"') +
      '\n[event_webhook.gate]\nurl = "http://127.0.0.1:1/hook"\npolicy = "required"\nevents = ["manifest.push"]\n';
    await writeFile(srv.configPath, gated);
    assert.ok(await waitForLog(srv, (m) => m.startsWith('Failed to apply configuration') && m.includes('required')));
    assert.notEqual(await uiName(srv), 'Gated', 'nothing of the refused file applies');
  });

  it('an invalid file is rejected and the old configuration keeps serving; fixing it applies', async () => {
    // A type error in a key the test owns (the harness may write its own [global] table).
    await writeFile(srv.configPath, original.replace('name = "First"', 'name = 3'));
    assert.ok(await waitForLog(srv, (m) => m.startsWith('Failed to reload configuration') && m.includes('ui.name')));
    assert.equal(await uiName(srv), 'Second', 'the running configuration is untouched');
    await writeFile(srv.configPath, original.replace('name = "First"', 'name = "Fourth"'));
    let name: unknown;
    for (let attempt = 0; attempt < 100 && name !== 'Fourth'; attempt++) {
      await sleep(100);
      name = await uiName(srv);
    }
    assert.equal(name, 'Fourth');
  });

  it('a changed port is a restart-required warning; the old port keeps serving and other edits apply', async () => {
    const moved = original.replace(/port = 0/, 'port = 1').replace('name = "First"', 'name = "Fifth"');
    assert.notEqual(moved, original);
    await writeFile(srv.configPath, moved);
    assert.ok(await waitForLog(srv, (m) => m.startsWith('server.port changed: a restart is required')));
    expectStatus(await send(srv.url, 'GET', '/v2/'), 200);
    assert.equal(await uiName(srv), 'Fifth');
  });
});

describe('rotating the token-service key without a restart', () => {
  let srv: RunningServer;
  const key = (byte: number) => Buffer.alloc(32, byte).toString('base64');
  before(async () => {
    srv = await startServer({ extraToml: `[auth.token_service]\nsecret_key = "${key(1)}"\n` });
  });
  after(async () => {
    await srv.stop();
  });

  it('a token minted with the old key is refused once the new key is loaded', async () => {
    const minted = await request(srv.url, '/token');
    expectStatus(minted, 200);
    const { token } = JSON.parse(minted.body.toString()) as { token: string };
    const bearer = { authorization: `Bearer ${token}` };
    expectStatus(await request(srv.url, '/v2/_catalog', { headers: bearer }), 200);
    const config = await readFile(srv.configPath, 'utf8');
    await writeFile(srv.configPath, config.replace(key(1), key(2)));
    let status = 200;
    for (let attempt = 0; attempt < 100 && status === 200; attempt++) {
      await sleep(100);
      status = (await request(srv.url, '/v2/_catalog', { headers: bearer })).status;
    }
    assert.equal(status, 401);
  });
});

describe('a broken identity in a reloaded file', () => {
  let srv: RunningServer;
  let phc: string;
  const basic = { authorization: `Basic ${Buffer.from('alice:hunter2').toString('base64')}` };
  before(async () => {
    phc = await argon2.hash('hunter2', { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 });
    srv = await startServer({
      extraToml: `[auth.identity.alice]\nusername = "alice"\npassword = "${phc}"\n\n[global.access_policy]\ndefault = "deny"\nrules = ["identity.username == 'alice'"]\n`,
    });
  });
  after(async () => {
    await srv.stop();
  });

  it('is rejected naming the invalid Argon2 hash, and alice keeps logging in with the old configuration', async () => {
    expectStatus(await request(srv.url, '/v2/', { headers: basic }), 200);
    const config = await readFile(srv.configPath, 'utf8');
    await writeFile(srv.configPath, config.replace(phc, 'not-a-hash'));
    assert.ok(await waitForLog(srv, (m) => m.startsWith('Failed to reload configuration') && m.includes('invalid Argon2 password hash')));
    expectStatus(await request(srv.url, '/v2/', { headers: basic }), 200);
    expectStatus(await request(srv.url, '/v2/'), 401);
  });
});

// Storage locations, credentials and tuning apply live (the stores are rebuilt); a backend type change is
// restart-only and keeps the whole running storage configuration.
describe('hot reload of storage', () => {
  let srv: RunningServer;
  let dirs: string;
  before(async () => {
    dirs = await mkdtemp(join(tmpdir(), 'angos-reload-storage-'));
    srv = await startServer({ storageToml: `[blob_store.fs]\nroot_dir = ${JSON.stringify(join(dirs, 'first'))}\n` });
  });
  after(async () => {
    await srv.stop();
    await rm(dirs, { recursive: true, force: true });
  });

  async function reloadTo(text: string): Promise<void> {
    const reloads = messages(srv).filter((m) => m === 'Configuration reloaded').length;
    await writeFile(srv.configPath, text);
    assert.ok(await waitForLog(srv, () => messages(srv).filter((m) => m === 'Configuration reloaded').length > reloads));
  }

  it('a new root_dir is used from the next request on; a backend change is restart-only and keeps it', async () => {
    const before = content(randomBytes(1024));
    await pushBlob(srv.url, 'reload/app', before);
    const original = await readFile(srv.configPath, 'utf8');

    await reloadTo(original.replace(join(dirs, 'first'), join(dirs, 'second')));
    expectStatus(await headBlob(srv.url, 'reload/app', before.digest), 404);
    const after = content(randomBytes(1024));
    await pushBlob(srv.url, 'reload/app', after);
    const stored = await readdir(join(dirs, 'second', 'v2', 'blobs', 'sha256', after.digest.slice(7, 9)));
    assert.deepEqual(stored, [after.digest.slice(7)]);

    const toS3 = (await readFile(srv.configPath, 'utf8')).replace(
      /\[blob_store\.fs\][^[]*/,
      '[blob_store.s3]\nendpoint = "http://127.0.0.1:1"\nbucket = "b"\nregion = "r"\naccess_key_id = "k"\nsecret_key = "s"\n\n[metadata_store.fs]\nroot_dir = "/nonexistent"\n\n',
    );
    await reloadTo(toS3);
    assert.ok(messages(srv).some((m) => m.startsWith('[blob_store] backend (fs/s3) changed: a restart is required')));
    expectStatus(await headBlob(srv.url, 'reload/app', after.digest), 200);
  });
});
