import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { FileBody } from './file-body.ts';

async function withFile(bytes: Buffer, run: (path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'angos-file-body-'));
  try {
    await writeFile(join(dir, 'f'), bytes);
    await run(join(dir, 'f'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A destination that copies what it is given (the body reuses its buffers) and drains slowly. */
function collector(): { dest: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const dest = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _enc, done) {
      chunks.push(Buffer.from(chunk));
      setImmediate(done);
    },
  });
  return { dest, bytes: () => Buffer.concat(chunks) };
}

test('copyInto delivers exactly the span through reused buffers, then closes the file', () =>
  withFile(randomBytes(3 * 1024 * 1024 + 17), async (path) => {
    const file = await open(path, 'r');
    const whole = (await file.stat()).size;
    const body = new FileBody(file, 100, whole - 5);
    const { dest, bytes: received } = collector();
    await body.copyInto(dest);
    assert.deepEqual(received(), (await readFile(path)).subarray(100, whole - 5));
    assert.ok(dest.writableFinished);
    await assert.rejects(file.stat(), /EBADF|closed/);
  }));

test('without an end, a body runs to end of file, as a copy and as a stream', () =>
  withFile(randomBytes(2 * 1024 * 1024 + 5), async (path) => {
    const expected = (await readFile(path)).subarray(7);
    const { dest, bytes: received } = collector();
    await new FileBody(await open(path, 'r'), 7, undefined).copyInto(dest);
    assert.deepEqual(received(), expected);
    const chunks: Buffer[] = [];
    for await (const chunk of new FileBody(await open(path, 'r'), 7, undefined)) chunks.push(chunk as Buffer);
    assert.deepEqual(Buffer.concat(chunks), expected);
  }));

test('copyInto rejects when the destination is destroyed mid-copy, and still closes the file', () =>
  withFile(randomBytes(4 * 1024 * 1024), async (path) => {
    const file = await open(path, 'r');
    const body = new FileBody(file, 0, 4 * 1024 * 1024);
    let seen = 0;
    const dest = new Writable({
      write(chunk: Buffer, _enc, done) {
        seen += chunk.length;
        if (seen > 1024 * 1024) this.destroy(new Error('client went away'));
        else done();
      },
    });
    await assert.rejects(body.copyInto(dest));
    await assert.rejects(file.stat(), /EBADF|closed/);
  }));

test('a file shorter than the promised span fails the copy instead of sending a short body', () =>
  withFile(randomBytes(1000), async (path) => {
    const file = await open(path, 'r');
    const { dest } = collector();
    await assert.rejects(new FileBody(file, 0, 2000).copyInto(dest), /ended 1000 bytes early/);
  }));
