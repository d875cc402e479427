import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, test } from 'node:test';
import { SharedFetches } from './shared-fetch.ts';

/** An upstream body the test feeds by hand. */
function source(size: number): { size: number; body: PassThrough } {
  return { size, body: new PassThrough() };
}

describe('SharedFetches', () => {
  test('a client joining mid-download gets every byte from the start; the download ran once', async () => {
    const fetches = new SharedFetches();
    const bytes = randomBytes(3 * 1024 * 1024);
    const upstream = source(bytes.length);
    let starts = 0;
    const start = async () => {
      starts++;
      return upstream;
    };
    const first = await fetches.open('k', start);
    assert.equal(first.started, true);
    const firstBytes = buffer(first.body);
    upstream.body.write(bytes.subarray(0, 1024 * 1024));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = await fetches.open('k', start);
    assert.equal(second.started, false);
    assert.equal(second.size, bytes.length);
    const secondBytes = buffer(second.body);
    upstream.body.end(bytes.subarray(1024 * 1024));
    assert.deepEqual(await firstBytes, bytes);
    assert.deepEqual(await secondBytes, bytes);
    assert.equal(starts, 1);
  });

  test('an upstream body shorter than its length fails every reader', async () => {
    const fetches = new SharedFetches();
    const upstream = source(100);
    const reader = await fetches.open('short', async () => upstream);
    const read = buffer(reader.body);
    upstream.body.end(Buffer.alloc(60));
    await assert.rejects(read, /ended at 60 of 100/);
  });

  test('when every reader leaves, the download is stopped and the next client starts a new one', async () => {
    const fetches = new SharedFetches();
    const upstream = source(1000);
    const reader = await fetches.open('left', async () => upstream);
    upstream.body.write(Buffer.alloc(10));
    const closed = new Promise((resolve) => upstream.body.once('close', resolve));
    (reader.body as Readable).destroy();
    await closed;
    assert.equal(upstream.body.destroyed, true);
    const again = await fetches.open('left', async () => source(5));
    assert.equal(again.started, true);
    again.body.destroy();
  });

  test('a start that fails is not shared with later clients', async () => {
    const fetches = new SharedFetches();
    await assert.rejects(fetches.open('x', () => Promise.reject(new Error('upstream down'))), /upstream down/);
    const next = await fetches.open('x', async () => source(0));
    assert.equal(next.started, true);
    assert.deepEqual(await buffer(next.body), Buffer.alloc(0));
  });
});
