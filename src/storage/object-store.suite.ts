import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ObjectStore } from './object-store.ts';
import { uploadSuite } from './object-store-upload.suite.ts';
import { assertNotFound, readAll, withStore, type MakeStore } from './suite-support.ts';

export type { MakeStore, StoreFixture } from './suite-support.ts';

/**
 * The contract every backend must pass (fs, and s3 on Ceph RGW): a backend is correct when this passes.
 * Each test gets a fresh, empty store from `makeStore`.
 */
export function objectStoreSuite(name: string, makeStore: MakeStore): void {
  describe(`object store contract: ${name}`, () => {
    const test = (title: string, body: (store: ObjectStore) => Promise<void>) =>
      it(title, () => withStore(makeStore, body));

    test('put then get returns the bytes; a second put replaces them', async (store) => {
      await store.put('a/b/obj', Buffer.from('first'));
      assert.deepEqual(await store.get('a/b/obj'), Buffer.from('first'));
      await store.put('a/b/obj', 'second, longer');
      assert.equal((await store.get('a/b/obj')).toString(), 'second, longer');
      const meta = await store.head('a/b/obj');
      assert.equal(meta.size, Buffer.byteLength('second, longer'));
      if (meta.lastModified !== undefined) assert.ok(!Number.isNaN(meta.lastModified.getTime()));
    });

    test('an empty object is stored and read back as empty', async (store) => {
      await store.put('empty', Buffer.alloc(0));
      assert.equal((await store.get('empty')).length, 0);
      assert.equal((await store.head('empty')).size, 0);
    });

    test('get, head and getStream of an absent key throw NotFoundError', async (store) => {
      await store.put('present/x', 'x');
      await assertNotFound(store.get('absent/x'), 'absent/x');
      await assertNotFound(store.head('absent/x'), 'absent/x');
      await assertNotFound(store.getStream('absent/x'), 'absent/x');
      await assertNotFound(store.getStream('absent/x', { start: 1 }), 'absent/x');
      // A prefix is not an object.
      await assertNotFound(store.get('present'), 'present');
      await assertNotFound(store.head('present'), 'present');
    });

    test('getStream reads the whole object or an inclusive byte range', async (store) => {
      const body = Buffer.from('0123456789abcdef');
      await store.put('ranged', body);
      assert.deepEqual(await readAll(await store.getStream('ranged')), body);
      assert.deepEqual(await readAll(await store.getStream('ranged', { start: 10 })), body.subarray(10));
      assert.deepEqual(await readAll(await store.getStream('ranged', { start: 3, end: 6 })), body.subarray(3, 7));
      const last = body.length - 1;
      assert.deepEqual(await readAll(await store.getStream('ranged', { start: 12, end: last })), body.subarray(12));
      assert.deepEqual(await readAll(await store.getStream('ranged', { start: last, end: last })), body.subarray(last));
    });

    test('createIfAbsent: of two concurrent calls exactly one wins, and the content is the winner\'s', async (store) => {
      for (let race = 0; race < 20; race++) {
        const key = `markers/race-${race}`;
        const bodies = [`writer A of race ${race}`, `writer B of race ${race}`];
        const results = await Promise.all(bodies.map((body) => store.createIfAbsent(key, body)));
        assert.equal(results.filter(Boolean).length, 1, `race ${race}: ${JSON.stringify(results)}`);
        const winner = bodies[results.indexOf(true)];
        assert.equal((await store.get(key)).toString(), winner);
      }
      assert.equal(await store.createIfAbsent('markers/race-0', 'late'), false);
      assert.notEqual((await store.get('markers/race-0')).toString(), 'late');
    });

    test('delete removes an object and is idempotent', async (store) => {
      await store.put('d/one', '1');
      await store.put('d/two', '2');
      await store.delete('d/one');
      await store.delete('d/one');
      await store.delete('never/existed');
      await assertNotFound(store.get('d/one'), 'd/one');
      assert.equal((await store.get('d/two')).toString(), '2');
      assert.deepEqual((await store.list('d')).keys, ['d/two']);
    });

    test('deletePrefix stops at a directory boundary; an empty prefix is a no-op', async (store) => {
      const keys = ['tags/v1/a', 'tags/v1/b/c', 'tags/v1-rc/x', 'tags/v10', 'tags/v2/a'];
      for (const key of keys) await store.put(key, key);
      await store.deletePrefix('tags/v1');
      assert.deepEqual((await store.list('tags')).keys, ['tags/v1-rc/x', 'tags/v10', 'tags/v2/a']);
      await store.deletePrefix('tags/v10');
      assert.equal((await store.get('tags/v10')).toString(), 'tags/v10', 'a key equal to the prefix is not under it');
      await store.deletePrefix('');
      await store.deletePrefix('absent/prefix');
      assert.deepEqual((await store.list('')).keys, ['tags/v1-rc/x', 'tags/v10', 'tags/v2/a']);
    });

    listingTests(test);
    uploadSuite(test);
  });
}

type Test = (title: string, body: (store: ObjectStore) => Promise<void>) => void;

/**
 * Names where `!` ends a namespace, next to names that extend it with `-` or `/`: byte order puts
 * `a!` < `a-b!` < `a/b!`, which a naive per-directory sort by name gets wrong.
 */
const CATALOG_KEYS = [
  'v2/cat/library!',
  'v2/cat/library/nginx!',
  'v2/cat/lib!',
  'v2/cat/a-b!',
  'v2/cat/a!',
  'v2/cat/a/b!',
];
const CATALOG_ORDER = [
  'v2/cat/a!',
  'v2/cat/a-b!',
  'v2/cat/a/b!',
  'v2/cat/lib!',
  'v2/cat/library!',
  'v2/cat/library/nginx!',
];
/** Siblings of the listed prefix whose names extend it: a listing of `v2/cat` must not reach them. */
const NEIGHBOUR_KEYS = ['v2/cat-x/y', 'v2/catalog!', 'v2/blobs/sha256/ab/data'];

async function putAll(store: ObjectStore, keys: string[]): Promise<void> {
  for (const key of keys) await store.put(key, key);
}

function listingTests(test: Test): void {
  test('list is flat, recursive and in ascending byte order of the full key', async (store) => {
    await putAll(store, [...CATALOG_KEYS, ...NEIGHBOUR_KEYS]);
    const page = await store.list('v2/cat');
    assert.deepEqual(page.keys, CATALOG_ORDER);
    assert.equal(page.next, undefined);
    assert.deepEqual((await store.list('v2/cat/')).keys, CATALOG_ORDER, 'a trailing / on the prefix is the same prefix');
    const everything = [...CATALOG_KEYS, ...NEIGHBOUR_KEYS].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    assert.deepEqual((await store.list('')).keys, everything);
    assert.deepEqual((await store.list('v2/cat/library')).keys, ['v2/cat/library/nginx!']);
    assert.deepEqual((await store.list('v2/nothing')).keys, []);
    assert.deepEqual((await store.list('v2/cat/a!')).keys, [], 'an object is not a prefix');
  });

  test('list pages of every size concatenate to exactly the full listing', async (store) => {
    await putAll(store, [...CATALOG_KEYS, ...NEIGHBOUR_KEYS]);
    for (let limit = 1; limit <= CATALOG_ORDER.length + 1; limit++) {
      const seen: string[] = [];
      let startAfter: string | undefined;
      let pages = 0;
      do {
        const page = await store.list('v2/cat', { limit, ...(startAfter !== undefined ? { startAfter } : {}) });
        assert.ok(page.keys.length <= limit);
        seen.push(...page.keys);
        startAfter = page.next;
        pages++;
        assert.ok(pages <= CATALOG_ORDER.length + 1, `limit ${limit}: pagination does not end`);
      } while (startAfter !== undefined);
      assert.deepEqual(seen, CATALOG_ORDER, `limit ${limit}`);
    }
  });

  test('list startAfter need not be an existing key', async (store) => {
    await putAll(store, [...CATALOG_KEYS, ...NEIGHBOUR_KEYS]);
    const after = async (startAfter: string) => (await store.list('v2/cat', { startAfter })).keys;
    assert.deepEqual(await after('v2/cat/a0'), ['v2/cat/lib!', 'v2/cat/library!', 'v2/cat/library/nginx!']);
    assert.deepEqual(await after('v2/cat/a-'), CATALOG_ORDER.slice(1));
    assert.deepEqual(await after('v2/cat/library/'), ['v2/cat/library/nginx!']);
    assert.deepEqual(await after('v2/cat/a/'), CATALOG_ORDER.slice(2));
    assert.deepEqual(await after('v2/ca'), CATALOG_ORDER, 'below the prefix: everything');
    assert.deepEqual(await after('v2/cat/z'), [], 'above every key of the prefix: nothing');
    assert.deepEqual(await after('v2/d'), []);
  });

  test('listChildren lists one level in listing order, paginated', async (store) => {
    await putAll(store, [...CATALOG_KEYS, ...NEIGHBOUR_KEYS]);
    const expected = [
      { name: 'a!', isPrefix: false },
      { name: 'a-b!', isPrefix: false },
      { name: 'a', isPrefix: true },
      { name: 'lib!', isPrefix: false },
      { name: 'library!', isPrefix: false },
      { name: 'library', isPrefix: true },
    ];
    const full = await store.listChildren('v2/cat');
    assert.deepEqual(full.children, expected);
    assert.equal(full.next, undefined);
    assert.deepEqual((await store.listChildren('v2')).children.map((c) => c.name), ['blobs', 'cat-x', 'cat', 'catalog!']);
    assert.deepEqual((await store.listChildren('v2/none')).children, []);
    for (let limit = 1; limit <= expected.length + 1; limit++) {
      const seen: unknown[] = [];
      let startAfter: string | undefined;
      do {
        const page = await store.listChildren('v2/cat', { limit, ...(startAfter !== undefined ? { startAfter } : {}) });
        assert.ok(page.children.length <= limit);
        seen.push(...page.children);
        startAfter = page.next;
      } while (startAfter !== undefined && seen.length <= expected.length);
      assert.deepEqual(seen, expected, `limit ${limit}`);
    }
  });

  test('listChildren startAfter a child name resumes after that child', async (store) => {
    await putAll(store, [...CATALOG_KEYS, ...NEIGHBOUR_KEYS]);
    const after = async (startAfter: string) =>
      (await store.listChildren('v2/cat', { startAfter })).children.map((c) => c.name);
    assert.deepEqual(await after('a!'), ['a-b!', 'a', 'lib!', 'library!', 'library']);
    assert.deepEqual(await after('a'), ['lib!', 'library!', 'library'], 'a prefix child named without its /');
    assert.deepEqual(await after('a/'), ['lib!', 'library!', 'library']);
    assert.deepEqual(await after('libz'), []);
    assert.deepEqual(await after('b'), ['lib!', 'library!', 'library'], 'a name that is no child');
  });

  test('copy duplicates an object; move relocates it; both refuse an absent source', async (store) => {
    await store.put('src/obj', 'payload');
    await store.copy('src/obj', 'copies/deep/obj');
    assert.equal((await store.get('copies/deep/obj')).toString(), 'payload');
    assert.equal((await store.get('src/obj')).toString(), 'payload');
    await store.put('dst/obj', 'old');
    await store.move('src/obj', 'dst/obj');
    assert.equal((await store.get('dst/obj')).toString(), 'payload', 'move replaces the target');
    await assertNotFound(store.get('src/obj'), 'src/obj');
    assert.deepEqual((await store.list('src')).keys, []);
    await assertNotFound(store.copy('src/obj', 'x/y'), 'src/obj');
    await assertNotFound(store.move('src/obj', 'x/y'), 'src/obj');
    await assertNotFound(store.get('x/y'), 'x/y');
  });

  test('presign resolves a URL string or undefined', async (store) => {
    await store.put('signed', 'x');
    const url = await store.presign('signed', 60);
    if (url !== undefined) assert.match(url, /^https?:\/\//);
  });
}
