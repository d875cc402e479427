import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'smol-toml';
import { mergeTables } from './merge.ts';

const toml = (text: string) => parse(text, { integersAsBigInt: true }) as Record<string, unknown>;

test('tables merge recursively, later scalars win', () => {
  const merged = mergeTables(
    toml('[server]\nbind_address = "0.0.0.0"\nport = 5000\n[cache.redis]\nkey_prefix = "a:"\n'),
    toml('[server]\nport = 6000\n[cache.redis]\nurl = "redis://x"\n'),
  );
  assert.deepEqual(JSON.parse(JSON.stringify(merged, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))), {
    server: { bind_address: '0.0.0.0', port: 6000 },
    cache: { redis: { key_prefix: 'a:', url: 'redis://x' } },
  });
});

test('arrays are replaced, never appended', () => {
  const merged = mergeTables(toml('rules = ["a", "b"]'), toml('rules = ["c"]'));
  assert.deepEqual(merged.rules, ['c']);
});

test('arrays of tables are replaced whole', () => {
  const merged = mergeTables(
    toml('[[repository.hub.upstream]]\nurl = "https://one"\nusername = "u"\n[[repository.hub.upstream]]\nurl = "https://two"\n'),
    toml('[[repository.hub.upstream]]\nurl = "https://three"\n'),
  );
  const hub = (merged.repository as Record<string, Record<string, unknown>>).hub!;
  assert.equal((hub.upstream as unknown[]).length, 1);
  assert.deepEqual({ ...(hub.upstream as Array<Record<string, unknown>>)[0] }, { url: 'https://three' });
});

test('a table replaces a scalar and a scalar replaces a table', () => {
  assert.deepEqual({ ...(mergeTables(toml('x = 1'), toml('[x]\ny = 2')).x as object) }, { y: 2n });
  assert.equal(mergeTables(toml('[x]\ny = 2'), toml('x = "s"')).x, 's');
});

test('inputs are left untouched', () => {
  const base = toml('[a]\nb = 1');
  mergeTables(base, toml('[a]\nb = 2'));
  assert.equal((base.a as Record<string, unknown>).b, 1n);
});
