import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'smol-toml';
import { checkArgon2Hash } from './argon2-hash.ts';
import { ConfigValueError } from './table-reader.ts';
import type { Config } from './types.ts';
import { validateConfig } from './validate.ts';

const BASE = '[server]\nbind_address = "127.0.0.1"\n[blob_store.fs]\nroot_dir = "/data"\n';
const HASH = '$argon2id$v=19$m=19456,t=2,p=1$ZXhhbXBsZXNhbHQxMjM0NQ$imK+2gA85s+YNXMl+ZWt3Lc+Z3qVHZdiQs8+ApfBTMQ';

function load(toml: string): Config {
  return validateConfig(parse(BASE + toml, { integersAsBigInt: true }));
}

/** The message of the ConfigValueError loading `toml` must throw. */
function failure(toml: string): string {
  let message = '';
  assert.throws(() => load(toml), (error: unknown) => {
    message = error instanceof ConfigValueError ? error.message : '';
    return error instanceof ConfigValueError;
  });
  return message;
}

function identity(id: string, username: string, password = HASH): string {
  return `[auth.identity.${id}]\nusername = ${JSON.stringify(username)}\npassword = ${JSON.stringify(password)}\n`;
}

test('identities load in file order with their table key as id; no [auth] means none', () => {
  assert.deepEqual(load('').auth, { identities: [], oidcProviders: [], tokenService: undefined });
  const config = load(identity('alice', 'alice') + identity('release-bot', 'ci-pusher'));
  assert.deepEqual(config.auth.identities, [
    { id: 'alice', username: 'alice', passwordHash: HASH },
    { id: 'release-bot', username: 'ci-pusher', passwordHash: HASH },
  ]);
  assert.deepEqual(config.warnings, []);
});

test('a username shared by two identities fails naming it', () => {
  const message = failure(identity('a', 'alice') + identity('b', 'alice'));
  assert.match(message, /^auth\.identity\.b\.username: duplicate basic-auth username 'alice' across \[auth\.identity\] entries/);
});

test('a username equal to an OIDC provider name fails', () => {
  const message = failure(`[auth.oidc.gha]\nprovider = "github"\n${identity('bot', 'gha')}`);
  assert.equal(message, "auth.identity.bot.username: basic-auth username 'gha' is also an OIDC provider name");
  // Different names coexist.
  assert.equal(load(`[auth.oidc.gha]\nprovider = "github"\n${identity('bot', 'bot')}`).auth.identities.length, 1);
});

test('a password that is not an Argon2 PHC string fails naming the identity, never quoting it', () => {
  for (const bad of ['', 'plaintext', 'not-a-hash', '$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW']) {
    const message = failure(identity('alice', 'alice', bad));
    assert.match(message, /^auth\.identity\.alice\.password: invalid Argon2 password hash: /, bad);
    if (bad !== '') assert.ok(!message.includes(bad), `the hash must not be echoed: ${message}`);
  }
});

test('username and password are required strings; unknown keys in an identity are reported', () => {
  assert.equal(failure('[auth.identity.alice]\npassword = "x"\n'), "auth.identity.alice: missing field 'username'");
  assert.equal(failure('[auth.identity.alice]\nusername = "alice"\n'), "auth.identity.alice: missing field 'password'");
  assert.equal(failure('[auth.identity.alice]\nusername = 7\n'), 'auth.identity.alice.username: invalid type: expected a string, found integer 7');
  assert.equal(failure('[auth.identity]\nalice = "x"\n'), 'auth.identity.alice: invalid type: expected a table, found string "x"');
  const config = load(`${identity('alice', 'alice')}email = "a@example.com"\n`);
  assert.deepEqual(config.warnings, ['Unknown configuration keys ignored: auth.identity.alice.email']);
});

test('Argon2 PHC strings of all three variants and both versions are accepted', () => {
  for (const good of [
    HASH,
    '$argon2i$v=19$m=4096,t=3,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A',
    '$argon2d$v=16$m=65536,t=2,p=4$c29tZXNhbHRzYWx0$YWJjZA',
    '$argon2id$m=19456,t=2,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A',
    '$argon2id$v=19$p=1,t=2,m=19456$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A',
  ]) {
    assert.doesNotThrow(() => checkArgon2Hash(good), good);
  }
});

test('malformed Argon2 PHC strings are refused with a reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2g', /starts with/],
    ['$scrypt$ln=15,r=8,p=1$c29tZXNhbHQ$aGFzaGhhc2g', /argon2id, argon2i or argon2d/],
    ['$argon2id$v=18$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2g', /version/],
    ['$argon2id$v=19$m=19456,t=2$c29tZXNhbHQ$aGFzaGhhc2g', /parameters/],
    ['$argon2id$v=19$m=19456,t=2,p=1,p=1$c29tZXNhbHQ$aGFzaGhhc2g', /repeated/],
    ['$argon2id$v=19$m=19456,t=0,p=1$c29tZXNhbHQ$aGFzaGhhc2g', /t must/],
    ['$argon2id$v=19$m=4,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2g', /m must/],
    ['$argon2id$v=19$m=19456,t=2,p=0$c29tZXNhbHQ$aGFzaGhhc2g', /p must/],
    ['$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaGhhc2g', /salt must be at least/],
    ['$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ=$aGFzaGhhc2g', /salt is not unpadded base64/],
    ['$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGF*aGhhc2g', /hash is not unpadded base64/],
    ['$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ', /expected \$<algorithm>/],
    ['$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2g$extra', /expected \$<algorithm>/],
  ];
  for (const [bad, reason] of cases) assert.throws(() => checkArgon2Hash(bad), reason, bad);
});
