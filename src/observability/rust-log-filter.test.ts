import { test } from 'node:test';
import assert from 'node:assert/strict';
import { levelFor, parseRustLog } from './rust-log-filter.ts';

test('a bare level is the default for every target', () => {
  const filter = parseRustLog('debug');
  assert.equal(levelFor(filter, 'angos::registry'), 'debug');
  assert.equal(levelFor(filter, 'anything'), 'debug');
});

test('levels are case-insensitive and whitespace is trimmed', () => {
  const filter = parseRustLog(' WARN , angos::cache = Debug ');
  assert.deepEqual(filter.invalid, []);
  assert.equal(levelFor(filter, 'angos::registry'), 'warn');
  assert.equal(levelFor(filter, 'angos::cache::redis'), 'debug');
});

test('without a bare level, unmatched targets fall back to error', () => {
  const filter = parseRustLog('angos::registry=debug');
  assert.equal(levelFor(filter, 'angos::registry::upload'), 'debug');
  assert.equal(levelFor(filter, 'angos::auth'), 'error');
});

test('the longest matching target prefix wins, whatever the directive order', () => {
  const filter = parseRustLog('angos::registry::upload=trace,warn,angos=info,angos::registry=off');
  assert.equal(levelFor(filter, 'angos::registry::upload'), 'trace');
  assert.equal(levelFor(filter, 'angos::registry::manifest'), 'off');
  assert.equal(levelFor(filter, 'angos::auth'), 'info');
  assert.equal(levelFor(filter, 'hyper'), 'warn');
});

test('matching is a plain string prefix: angos also covers angos_storage', () => {
  const filter = parseRustLog('angos=debug');
  assert.equal(levelFor(filter, 'angos_storage::fs'), 'debug');
});

test('a bare target enables every level for it', () => {
  const filter = parseRustLog('error,angos::oci');
  assert.equal(levelFor(filter, 'angos::oci::digest'), 'trace');
  assert.equal(levelFor(filter, 'angos::http'), 'error');
});

test('span selectors are accepted and ignored', () => {
  const filter = parseRustLog('angos::registry[upload{id=1}]=debug,angos::cache[x]');
  assert.deepEqual(filter.invalid, []);
  assert.equal(levelFor(filter, 'angos::registry'), 'debug');
  assert.equal(levelFor(filter, 'angos::cache'), 'trace');
});

test('invalid directives are collected and skipped, valid ones still apply', () => {
  const filter = parseRustLog('info,angos=loud,=debug,a b=info,angos::http=debug');
  assert.deepEqual(filter.invalid, ['angos=loud', '=debug', 'a b=info']);
  assert.equal(filter.defaultLevel, 'info');
  assert.equal(levelFor(filter, 'angos::http::server'), 'debug');
  assert.equal(levelFor(filter, 'angos::registry'), 'info');
});

test('the last directive for the same target wins', () => {
  const filter = parseRustLog('angos=debug,angos=warn');
  assert.equal(levelFor(filter, 'angos::x'), 'warn');
});
