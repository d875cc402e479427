import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BufferPool } from './buffer-pool.ts';
import { missingNodeFlags, SERVER_ENVIRONMENT, SERVER_NODE_FLAGS } from './memory-policy.ts';
import { youngCollections } from './young-collections.ts';

const root = join(import.meta.dirname, '../..');
const policyWords = [...Object.entries(SERVER_ENVIRONMENT).map(([name, value]) => `${name}=${value}`), 'node', ...SERVER_NODE_FLAGS];

test('the installed angos command and npm start run node with exactly the policy flags and environment', async () => {
  const shebang = (await readFile(join(root, 'bin/angos.js'), 'utf8')).split('\n')[0]!;
  assert.equal(shebang, `#!/usr/bin/env -S ${policyWords.join(' ')}`);
  const start = (JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
  assert.ok(start.startsWith(`${policyWords.join(' ')} `), start);
});

test('missing flags are found in neither the command line nor NODE_OPTIONS', () => {
  assert.deepEqual(missingNodeFlags([...SERVER_NODE_FLAGS], ''), []);
  assert.deepEqual(missingNodeFlags([], SERVER_NODE_FLAGS.join(' ')), []);
  assert.deepEqual(missingNodeFlags(['--max-old-space-size=192'], ''), ['--max-semi-space-size=4']);
});

test('a young collection is asked for once per threshold of consumed bytes', () => {
  let collections = 0;
  const consumed = youngCollections(100, () => collections++);
  for (let i = 0; i < 9; i++) consumed(30);
  assert.equal(collections, 2, '270 bytes: at 120 and at 240');
});

test('a buffer pool hands back buffers of the size asked for, and keeps at most its limit', () => {
  const pool = new BufferPool(1);
  const first = pool.take(8);
  pool.give(first);
  pool.give(Buffer.alloc(8));
  assert.equal(pool.take(8), first, 'reused');
  assert.notEqual(pool.take(8), first, 'only one was kept');
  const other = pool.take(16);
  assert.equal(other.length, 16);
});
