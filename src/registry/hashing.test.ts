import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { ExportableHash, RunningHash } from './hashing.ts';

describe('hashes', () => {
  for (const algorithm of ['sha256', 'sha512'] as const) {
    it(`${algorithm}: a saved state continued in a fresh hash gives the digest of the whole stream`, async () => {
      const first = Buffer.from('the first part of a blob, ');
      const second = Buffer.from('and the part another process appends');
      const expected = `${algorithm}:${createHash(algorithm).update(Buffer.concat([first, second])).digest('hex')}`;

      const before = await ExportableHash.create(algorithm);
      before.update(first);
      const interim = before.digest();
      assert.equal(interim, `${algorithm}:${createHash(algorithm).update(first).digest('hex')}`, 'digest() leaves the hash usable');
      const after = await ExportableHash.create(algorithm, { state: before.save(), offset: before.offset });
      after.update(second);
      assert.equal(after.offset, first.length + second.length);
      assert.equal(after.digest(), expected);

      const running = new RunningHash(algorithm);
      running.update(first);
      running.update(second);
      assert.equal(running.digest(), expected);
    });
  }
});
