import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFailure as failure, loadConfig as load } from '../../test/support/config-validation.ts';

const KEY = Buffer.alloc(32, 1).toString('base64');

const section = (lines: string) => `[auth.token_service]\n${lines}\n`;

test('absent means off; present with a key gets the defaults', () => {
  assert.equal(load('').auth.tokenService, undefined);
  assert.deepEqual(load(section(`secret_key = "${KEY}"`)).auth.tokenService, { secretKey: KEY, realm: undefined, ttlSecs: 3600 });
});

test('a key shorter than 32 bytes or not base64 fails without quoting it', () => {
  const short = Buffer.alloc(31, 2).toString('base64');
  assert.equal(failure(section(`secret_key = "${short}"`)), 'auth.token_service.secret_key: must decode to at least 32 bytes, got 31');
  for (const bad of ['not base64!', `${KEY.slice(0, -1)}`, '']) {
    const message = failure(section(`secret_key = "${bad}"`));
    assert.equal(message, 'auth.token_service.secret_key: must be standard (padded) base64');
  }
  assert.equal(failure(section('ttl_secs = 5')), "auth.token_service: missing field 'secret_key'");
  assert.equal(failure(section('secret_key = 5')), 'auth.token_service.secret_key: invalid type: expected a string, found an integer');
});

test('ttl_secs must be 1..86400', () => {
  for (const ttl of [0, 86401]) {
    assert.equal(failure(section(`secret_key = "${KEY}"\nttl_secs = ${ttl}`)), `auth.token_service.ttl_secs must be between 1 and 86400, got ${ttl}`);
  }
  assert.equal(load(section(`secret_key = "${KEY}"\nttl_secs = 86400`)).auth.tokenService?.ttlSecs, 86400);
});

test('realm must be an absolute http(s) URL whose path ends with /token', () => {
  for (const realm of ['https://r/tokens', 'https://r.example/auth', 'ftp://r/token', '/token', 'https:///token']) {
    assert.match(failure(section(`secret_key = "${KEY}"\nrealm = "${realm}"`)), /^auth\.token_service\.realm: /, realm);
  }
  // Credentials in a refused realm are not echoed.
  assert.ok(!failure(section(`secret_key = "${KEY}"\nrealm = "https://u:hunter2@r/x"`)).includes('hunter2'));
  const { realm } = load(section(`secret_key = "${KEY}"\nrealm = "https://u:p@Auth.Example:443/v1/token?a=b#c"`)).auth.tokenService!;
  assert.deepEqual(realm, { url: 'https://auth.example/v1/token', service: 'auth.example' });
});
