import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { objectStoreSuite } from '../object-store.suite.ts';
import { openFsStore } from '../open-store.ts';
import type { StoreFixture } from '../suite-support.ts';
import { FsObjectStore } from './fs-object-store.ts';

async function tempRoot(): Promise<{ parent: string; root: string; cleanup(): Promise<void> }> {
  const parent = await mkdtemp(join(tmpdir(), 'angos-fs-store-'));
  const root = join(parent, 'root');
  return { parent, root, cleanup: () => rm(parent, { recursive: true, force: true }) };
}

function fsFixture(syncToDisk: boolean): () => Promise<StoreFixture> {
  return async () => {
    const { root, cleanup } = await tempRoot();
    return { store: new FsObjectStore({ rootDir: root, syncToDisk }), cleanup };
  };
}

objectStoreSuite('fs', fsFixture(false));
objectStoreSuite('fs with sync_to_disk', fsFixture(true));

/** Runs `body` with a store on a fresh root inside its own parent directory, so escapes from the root are visible. */
async function onFreshRoot(body: (store: FsObjectStore, root: string, parent: string) => Promise<void>): Promise<void> {
  const { parent, root, cleanup } = await tempRoot();
  try {
    await body(new FsObjectStore({ rootDir: root }), root, parent);
  } finally {
    await cleanup();
  }
}

describe('FsObjectStore specifics', () => {
  it('never shows temp files, nor directories holding only temp files, in listings', () =>
    onFreshRoot(async (store, root) => {
      await store.put('v2/cat/a!', 'a');
      await store.put('v2/cat/b/c!', 'c');
      await writeFile(join(root, 'v2/cat/.tmp-123-deadbeef'), 'half written');
      await writeFile(join(root, '.tmp-123-cafe'), 'half written');
      await mkdir(join(root, 'v2/cat/ghost'));
      await writeFile(join(root, 'v2/cat/ghost/.tmp-9-feed'), 'half written');
      await mkdir(join(root, 'v2/cat/empty'));

      assert.deepEqual((await store.list('')).keys, ['v2/cat/a!', 'v2/cat/b/c!']);
      assert.deepEqual((await store.list('v2/cat')).keys, ['v2/cat/a!', 'v2/cat/b/c!']);
      assert.deepEqual((await store.listChildren('v2/cat')).children, [
        { name: 'a!', isPrefix: false },
        { name: 'b', isPrefix: true },
      ]);
      assert.deepEqual((await store.listChildren('')).children, [{ name: 'v2', isPrefix: true }]);
      await assert.rejects(store.get('v2/cat/.tmp-123-deadbeef'), /invalid storage key/);
    }));

  it('leaves no temp file behind after put, createIfAbsent, copy and uploads', () =>
    onFreshRoot(async (store, root) => {
      await store.put('d/put', 'p');
      await store.createIfAbsent('d/created', 'c');
      await store.createIfAbsent('d/created', 'again');
      await store.copy('d/put', 'd/copied');
      await store.createUpload('d/upload');
      await store.writeUpload('d/upload', Readable.from([Buffer.from('u')]));
      assert.deepEqual((await readdir(join(root, 'd'))).sort(), ['copied', 'created', 'put', 'upload']);
    }));

  it('a moved object is new where it lands, however old its source (the collector ages blobs by it)', () =>
    onFreshRoot(async (store, root) => {
      await store.put('up/data', 'bytes');
      const hourAgo = new Date(Date.now() - 3_600_000);
      await utimes(join(root, 'up/data'), hourAgo, hourAgo);
      const before = Date.now();
      await store.move('up/data', 'blobs/data');
      const moved = (await store.head('blobs/data')).lastModified!.getTime();
      assert.ok(moved >= before - 1000, `moved object dated ${new Date(moved).toISOString()}, before the move`);
    }));

  it('prunes directories emptied by delete, deletePrefix, move and abortUpload, never the root', () =>
    onFreshRoot(async (store, root) => {
      await store.put('a/b/c/d', 'x');
      await store.put('a/x', 'x');
      await store.delete('a/b/c/d');
      assert.ok(!existsSync(join(root, 'a/b')));
      assert.ok(existsSync(join(root, 'a/x')));
      await store.delete('a/x');
      assert.deepEqual(await readdir(root), []);

      await store.put('p/q/r/s', 'x');
      await store.deletePrefix('p/q');
      await store.createUpload('u/1/data');
      await store.move('u/1/data', 'blobs/1/data');
      await store.createUpload('u/2/data');
      await store.abortUpload('u/2/data');
      assert.deepEqual(await readdir(root), ['blobs']);
    }));

  it('a kept prefix stops the pruning: its directory and those above it stay, those below it go', () =>
    onFreshRoot(async (store, root) => {
      const keep = { keep: 'r/ns/_uploads' };
      await store.createUpload('r/ns/_uploads/1/data');
      await store.put('r/ns/_uploads/1/session.json', '{}');
      await store.move('r/ns/_uploads/1/data', 'blobs/1/data', keep);
      assert.deepEqual(await readdir(join(root, 'r/ns/_uploads/1')), ['session.json']);
      await store.deletePrefix('r/ns/_uploads/1', keep);
      assert.deepEqual(await readdir(join(root, 'r/ns/_uploads')), []);

      await store.put('r/ns/_uploads/2/session.json', '{}');
      await store.delete('r/ns/_uploads/2/session.json', keep);
      assert.deepEqual(await readdir(join(root, 'r/ns/_uploads')), []);
      // Kept but empty: listings do not show it, as an object store would not.
      assert.deepEqual((await store.listChildren('r/ns')).children, []);
      assert.deepEqual((await store.list('r')).keys, []);

      // A kept prefix that is not above the removed key keeps nothing; without one the whole chain goes.
      await store.put('r/other/k', 'x');
      await store.delete('r/other/k', keep);
      assert.ok(existsSync(join(root, 'r/other')));
      await store.delete('r/ns/_uploads/absent');
      await store.put('r/ns/_uploads/3/k', 'x');
      await store.delete('r/ns/_uploads/3/k');
      assert.deepEqual((await readdir(root)).sort(), ['blobs', 'r']);
      assert.deepEqual(await readdir(join(root, 'r')), ['other']);
    }));

  it('two store instances on one root see each other\'s writes and continue each other\'s upload', () =>
    onFreshRoot(async (first, root) => {
      const second = new FsObjectStore({ rootDir: root });
      await first.put('shared/record', 'from first');
      assert.equal((await second.get('shared/record')).toString(), 'from first');
      const claims = await Promise.all([first.createIfAbsent('shared/claim', '1'), second.createIfAbsent('shared/claim', '2')]);
      assert.deepEqual(claims.filter(Boolean), [true]);

      await first.createUpload('up/data');
      await first.writeUpload('up/data', Readable.from([Buffer.from('part one|')]));
      assert.equal(await second.uploadSize('up/data'), 9);
      await second.writeUpload('up/data', Readable.from([Buffer.from('part two')]));
      assert.equal(await first.completeUpload('up/data'), 17);
      await second.move('up/data', 'final/data');
      assert.equal((await first.get('final/data')).toString(), 'part one|part two');
    }));

  it('concurrent writes and deletes of sibling keys in a deep directory never fail (pruning race)', () =>
    onFreshRoot(async (store, root) => {
      const dir = 'deep/a/b/c/d/e/f/g/h/i';
      // Every delete prunes the whole chain when its key was the last one, while siblings recreate it.
      const worker = async (name: string) => {
        const key = `${dir}/${name}`;
        for (let i = 0; i < 200; i++) {
          if (i % 3 === 0) await store.put(key, `${name} ${i}`);
          else if (i % 3 === 1) assert.equal(await store.createIfAbsent(key, `${name} ${i}`), true);
          else await store.createUpload(key);
          assert.equal((await store.head(key)).size, i % 3 === 2 ? 0 : `${name} ${i}`.length);
          await store.delete(key);
        }
      };
      // allSettled: a failing worker must not let cleanup start under the feet of the others.
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, w) => worker(`k${w}`)));
      for (const result of results) if (result.status === 'rejected') throw result.reason;
      assert.deepEqual((await store.list('deep')).keys, []);
      assert.deepEqual(await readdir(root), []);
    }));

  it('deletePrefix racing writers under the prefix never fails; what it read is gone', () =>
    onFreshRoot(async (store) => {
      let writing = true;
      const writer = async (name: string) => {
        for (let i = 0; writing; i++) await store.put(`busy/x/y${i % 3}/${name}-${i}`, 'x');
      };
      const deleter = async () => {
        try {
          for (let round = 0; round < 40; round++) await store.deletePrefix('busy/x');
        } finally {
          writing = false;
        }
      };
      const results = await Promise.allSettled([deleter(), ...['a', 'b', 'c', 'd'].map(writer)]);
      for (const result of results) if (result.status === 'rejected') throw result.reason;
      await store.put('busy/keep', 'k');
      await store.deletePrefix('busy/x');
      assert.deepEqual((await store.list('busy')).keys, ['busy/keep']);
    }));

  it('rejects keys that could leave the root or collide with temp files', () =>
    onFreshRoot(async (store, _root, parent) => {
      const bad = ['', '../escape', 'a/../../escape', 'a/./b', '/etc/passwd', 'a//b', 'a/', 'a\0b', 'a/.hidden'];
      for (const key of bad) {
        await assert.rejects(store.put(key, 'x'), /invalid storage key/, JSON.stringify(key));
        await assert.rejects(store.get(key), /invalid storage key/, JSON.stringify(key));
        await assert.rejects(store.delete(key), /invalid storage key/, JSON.stringify(key));
        await assert.rejects(store.createUpload(key), /invalid storage key/, JSON.stringify(key));
      }
      await assert.rejects(store.list('../'), /invalid storage key/);
      await assert.rejects(store.deletePrefix('a/..'), /invalid storage key/);
      await assert.rejects(store.move('a', '../b'), /invalid storage key/);
      assert.deepEqual(await readdir(parent), [], 'nothing was written, inside or outside the root');
    }));

  it('lists 1000 keys per page by default', () =>
    onFreshRoot(async (store) => {
      const keys = Array.from({ length: 1001 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
      await Promise.all(keys.map((key) => store.put(key, '')));
      const first = await store.list('many');
      assert.deepEqual(first.keys, keys.slice(0, 1000));
      assert.equal(first.next, keys[999]);
      assert.deepEqual((await store.list('many', { startAfter: first.next! })).keys, [keys[1000]]);
    }));

  it('rejects invalid ranges and limits with a clear error', () =>
    onFreshRoot(async (store) => {
      await store.put('r', '0123');
      await assert.rejects(store.getStream('r', { start: 3, end: 1 }), RangeError);
      await assert.rejects(store.getStream('r', { start: -1 }), RangeError);
      await assert.rejects(store.list('', { limit: 0 }), RangeError);
      await assert.rejects(store.listChildren('', { limit: 1.5 }), RangeError);
    }));

  it('openFsStore builds a store on the root with the sync setting; an empty root is refused', () =>
    onFreshRoot(async (_store, root) => {
      const store = openFsStore(root, true);
      assert.ok(store instanceof FsObjectStore);
      assert.equal(store.syncToDisk, true);
      await store.put('k', 'v');
      assert.equal((await new FsObjectStore({ rootDir: root }).get('k')).toString(), 'v');
      assert.throws(() => openFsStore('', false), /root_dir/);
    }));
});
