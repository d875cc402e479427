import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAuthorization } from './credentials.ts';

const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

test('Basic: padded base64 of user:password, scheme in any case, leading whitespace skipped', () => {
  const expected = { scheme: 'basic', username: 'alice', password: 'hunter2' };
  for (const header of [`Basic ${b64('alice:hunter2')}`, `bAsIc ${b64('alice:hunter2')}`, `BASIC \t ${b64('alice:hunter2')}`, `  Basic ${b64('alice:hunter2')}`]) {
    assert.deepEqual(parseAuthorization(header), expected, header);
  }
});

test('Basic splits at the first colon only: passwords may contain colons; empty parts are kept', () => {
  assert.deepEqual(parseAuthorization(`Basic ${b64('alice:p:a:ss')}`), { scheme: 'basic', username: 'alice', password: 'p:a:ss' });
  assert.deepEqual(parseAuthorization(`Basic ${b64(':secret')}`), { scheme: 'basic', username: '', password: 'secret' });
  assert.deepEqual(parseAuthorization(`Basic ${b64('alice:')}`), { scheme: 'basic', username: 'alice', password: '' });
  assert.deepEqual(parseAuthorization(`Basic ${b64('jürgen:pässwörd')}`), { scheme: 'basic', username: 'jürgen', password: 'pässwörd' });
});

test('Bearer: the rest of the header is the token, scheme in any case', () => {
  assert.deepEqual(parseAuthorization('Bearer abc.def.ghi'), { scheme: 'bearer', token: 'abc.def.ghi' });
  assert.deepEqual(parseAuthorization('bearer   abc'), { scheme: 'bearer', token: 'abc' });
});

test('every malformed Authorization header is no credentials (anonymous), never an error', () => {
  const malformed = [
    undefined,
    '',
    'Basic',
    'Basic ',
    'Bearer',
    'Basic !!!',
    `Basic ${b64('alice:hunter2').replace(/=+$/, '')}x`,
    // Unpadded, URL-safe alphabet, embedded whitespace: not standard padded base64.
    `Basic ${b64('alice:hunter2!').replace(/=+$/, '')}`,
    `Basic ${b64('a?>:b~~').replace(/\//g, '_').replace(/\+/g, '-')}`,
    `Basic ${b64('alice:hunter2').slice(0, 4)} ${b64('alice:hunter2').slice(4)}`,
    `Basic ${b64('no-colon-here')}`,
    `Basic ${b64(Buffer.from([0x61, 0x3a, 0xff, 0xfe]))}`,
    `Digest username="alice"`,
    `Negotiate ${b64('alice:hunter2')}`,
    b64('alice:hunter2'),
  ];
  for (const header of malformed) assert.equal(parseAuthorization(header), undefined, String(header));
});

test('the canonical encodings the malformed cases were derived from do parse', () => {
  // Guards the malformed cases above: they fail for the intended reason, not because the helper is broken.
  assert.equal(parseAuthorization(`Basic ${b64('alice:hunter2!')}`)?.scheme, 'basic');
  assert.equal(parseAuthorization(`Basic ${b64('a?>:b~~')}`)?.scheme, 'basic');
  assert.ok(b64('a?>:b~~').includes('/') || b64('a?>:b~~').includes('+'), 'the sample uses the non-URL alphabet');
});
