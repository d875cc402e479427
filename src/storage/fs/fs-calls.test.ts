import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FsCalls } from './fs-calls.ts';

/** Every call once, plus the failures the store relies on; the outcome is the same whichever way calls run. */
async function exercise(calls: FsCalls, root: string): Promise<unknown[]> {
  const outcome = async (call: () => Promise<unknown>): Promise<unknown> => {
    try {
      await call();
      return 'ok';
    } catch (err) {
      return (err as NodeJS.ErrnoException).code;
    }
  };
  const dir = join(root, 'a', 'b');
  const small = Buffer.from('{"small":true}');
  const large = Buffer.alloc(100 * 1024, 7);
  return [
    await outcome(() => calls.mkdirs(dir)),
    await outcome(() => calls.writeNew(join(dir, 's'), small)),
    await outcome(() => calls.writeNew(join(dir, 's'), small)),
    await outcome(() => calls.writeNew(join(dir, 'l'), large)),
    await outcome(() => calls.link(join(dir, 's'), join(dir, 's2'))),
    await outcome(() => calls.link(join(dir, 'l'), join(dir, 's2'))),
    await outcome(() => calls.rename(join(dir, 's2'), join(dir, 's3'))),
    (await calls.stat(join(dir, 'l'))).size,
    (await calls.readFile(join(dir, 'l'))).equals(large),
    (await calls.lstat(dir)).isDirectory(),
    (await calls.readdir(dir)).map((entry) => entry.name).sort(),
    await outcome(() => calls.createEmpty(join(dir, 'l'))),
    (await calls.stat(join(dir, 'l'))).size,
    await outcome(() => calls.rmdir(dir)),
    await outcome(() => calls.unlink(join(dir, 'missing'))),
    await outcome(() => calls.stat(join(dir, 'missing', 'x'))),
    await outcome(() => calls.mkdirs(join(dir, 's', 'x'))),
    (await readFile(join(dir, 's3'))).toString(),
    (await calls.readFile(join(dir, 's3'))).toString(),
    await outcome(() => calls.readFile(join(dir, 'missing'))),
    await outcome(() => calls.readFile(dir)),
    ...(await Promise.all(['s', 's3', 'l'].map((name) => outcome(() => calls.unlink(join(dir, name)))))),
    await outcome(() => calls.rmdir(dir)),
    await readdir(join(root, 'a')),
  ];
}

async function inTempDir(run: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'angos-fs-calls-'));
  try {
    await run(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('inline and thread-pool calls give the same results and the same error codes', () =>
  inTempDir(async (root) => {
    const inline = new FsCalls(root);
    const inlineOutcome = await exercise(inline, join(root, 'inline'));

    // Limits no real call can meet: the first call moves this instance to the thread pool.
    const pooled = new FsCalls(root, { callMs: -1, meanMs: -1 });
    const pooledOutcome = await exercise(pooled, join(root, 'pooled'));
    assert.equal(pooled.inline, false);

    assert.deepEqual(pooledOutcome, inlineOutcome);
    assert.deepEqual(inlineOutcome, [
      'ok', 'ok', 'EEXIST', 'ok', 'ok', 'EEXIST', 'ok', 100 * 1024, true, true, ['l', 's', 's3'],
      'ok', 0, 'ENOTEMPTY', 'ENOENT', 'ENOENT', 'ENOTDIR', '{"small":true}', '{"small":true}', 'ENOENT', 'EISDIR',
      'ok', 'ok', 'ok', 'ok', [],
    ]);
  }));

test('a directory too large to read inline is read through the thread pool, whole', () =>
  inTempDir(async (root) => {
    const names = Array.from({ length: 800 }, (_, i) => `${String(i).padStart(4, '0')}-${'x'.repeat(60)}`);
    await Promise.all(names.map((name) => writeFile(join(root, name), '')));
    const calls = new FsCalls(root);
    assert.deepEqual((await calls.readdir(root)).map((entry) => entry.name).sort(), names);
    assert.equal(calls.inline, true);
  }));
