import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../config/load.ts';
import { reloadConfig } from './reload.ts';

const BASE = `[server]\nbind_address = "127.0.0.1"\nport = 5000\n[blob_store.fs]\nroot_dir = "/tmp/unused"\n`;

test('adding the job queue, tracing or a handshake timeout needs a restart: the running values are kept, other edits apply', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'angos-reload-'));
  try {
    const path = join(dir, 'config.toml');
    await writeFile(path, `${BASE}[ui]\nname = "before"\n`);
    const running = await loadConfig([path]);
    await writeFile(
      path,
      `${BASE.replace('port = 5000', 'port = 5000\nhandshake_timeout = 3')}[ui]\nname = "after"\n[global.job_queue]\n` +
        `[observability.tracing]\nendpoint = "http://127.0.0.1:4317"\nsampling_rate = 1\n`,
    );
    const result = await reloadConfig(running, [path]);
    assert.ok(result.ok);
    assert.deepEqual(result.restartRequired, ['server.handshake_timeout', '[global.job_queue] (presence and settings)', '[observability.tracing]']);
    assert.equal(result.config.global.jobQueue, undefined);
    assert.equal(result.config.observability.tracing, undefined);
    assert.equal(result.config.server.handshakeTimeoutSecs, 10);
    assert.equal(result.config.ui.name, 'after');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
