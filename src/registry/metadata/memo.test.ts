import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { FsObjectStore } from '../../storage/fs/fs-object-store.ts';
import { PrefixMemo } from './memo.ts';

async function withStore(run: (store: FsObjectStore) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'angos-memo-'));
  try {
    await run(new FsObjectStore({ rootDir: root }));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function stampOf(store: FsObjectStore): Promise<string | undefined> {
  return (await store.changeStamps(['p']))[0];
}

/** Outlasts the window in which the filesystem store refuses to vouch for a just-changed directory. */
const settle = () => sleep(1100);

test('the filesystem change stamp moves with every key added, replaced or removed directly below the prefix', () =>
  withStore(async (store) => {
    assert.equal(await stampOf(store), 'absent');
    await store.put('p/a', '1');
    assert.equal(await stampOf(store), undefined, 'a directory changed this instant is not vouched for');
    await settle();
    const seen = new Set<string | undefined>([await stampOf(store)]);
    for (const change of [() => store.put('p/b', '2'), () => store.put('p/a', 'other'), () => store.delete('p/b')]) {
      await change();
      await settle();
      const stamp = await stampOf(store);
      assert.ok(stamp !== undefined && !seen.has(stamp), `stamp ${stamp} after a change is new`);
      seen.add(stamp);
    }
    await settle();
    assert.ok(seen.has(await stampOf(store)), 'no change, same stamp');
  }));

test('a memo recomputes after a change under its prefix and reuses its value otherwise', () =>
  withStore(async (store) => {
    const memo = new PrefixMemo<string[]>(store, 4);
    let computations = 0;
    const listing = () =>
      memo.get('p', async () => {
        computations++;
        return (await store.list('p')).keys;
      });
    await store.put('p/a', '');
    await settle();
    assert.deepEqual(await listing(), ['p/a']);
    assert.deepEqual(await listing(), ['p/a']);
    assert.equal(computations, 1);
    await store.put('p/b', '');
    assert.deepEqual(await listing(), ['p/a', 'p/b'], 'a fresh change is seen at once');
    await settle();
    assert.deepEqual(await listing(), ['p/a', 'p/b']);
    await store.delete('p/a');
    assert.deepEqual(await listing(), ['p/b']);
  }));

test('getMany checks every prefix at once and recomputes only where a stamp moved', () =>
  withStore(async (store) => {
    const memo = new PrefixMemo<boolean>(store, 8);
    const computed: string[] = [];
    const holding = (prefixes: string[]) =>
      memo.getMany(
        prefixes,
        async (index) => {
          computed.push(prefixes[index]!);
          return (await store.list(prefixes[index]!, { limit: 1 })).keys.length > 0;
        },
        2,
      );
    await store.put('a/x', '');
    await store.put('b/x', '');
    await settle();
    assert.deepEqual(await holding(['a', 'b', 'c']), [true, true, false]);
    assert.deepEqual(computed, ['a', 'b', 'c']);
    computed.length = 0;
    assert.deepEqual(await holding(['a', 'b', 'c']), [true, true, false]);
    assert.deepEqual(computed, [], 'unchanged prefixes are reused');
    await store.delete('b/x');
    await store.put('c/x', '');
    assert.deepEqual(await holding(['a', 'b', 'c']), [true, false, true]);
    assert.deepEqual(computed.sort(), ['b', 'c'], 'only the moved prefixes are read again');
  }));
