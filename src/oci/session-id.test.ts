import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newSessionId, parseSessionId } from './session-id.ts';

const CANONICAL = '123e4567-e89b-42d3-a456-426614174000';

test('the canonical lower-case hyphenated UUID is a session id', () => {
  assert.equal(parseSessionId(CANONICAL), CANONICAL);
});

test('braced, URN, upper-case and unhyphenated spellings are invalid', () => {
  const invalid = [
    `{${CANONICAL}}`,
    `urn:uuid:${CANONICAL}`,
    CANONICAL.toUpperCase(),
    '123E4567-e89b-42d3-a456-426614174000',
    CANONICAL.replaceAll('-', ''),
    `${CANONICAL}\n`,
    CANONICAL.slice(1),
    `${CANONICAL}0`,
    '123e4567-e89b-42d3-a456_426614174000',
    'g23e4567-e89b-42d3-a456-426614174000',
    '',
  ];
  for (const value of invalid) assert.equal(parseSessionId(value), undefined, JSON.stringify(value));
});

test('issued session ids are fresh random v4 UUIDs in canonical form', () => {
  const issued = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const id = newSessionId();
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(parseSessionId(id), id);
    issued.add(id);
  }
  assert.equal(issued.size, 20);
});
