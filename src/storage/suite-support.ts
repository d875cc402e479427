import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isNotFound, type ObjectStore } from './object-store.ts';

/** A fresh, empty store and the way to dispose of it: one per test, so tests never see each other's keys. */
export interface StoreFixture {
  store: ObjectStore;
  cleanup(): Promise<void>;
}

export type MakeStore = () => Promise<StoreFixture>;

export async function withStore(makeStore: MakeStore, body: (store: ObjectStore) => Promise<void>): Promise<void> {
  const fixture = await makeStore();
  try {
    await body(fixture.store);
  } finally {
    await fixture.cleanup();
  }
}

export async function assertNotFound(operation: Promise<unknown>, key: string): Promise<void> {
  await assert.rejects(operation, (err: unknown) => {
    assert.ok(isNotFound(err), `expected NotFoundError for ${key}, got ${String(err)}`);
    assert.equal(err.key, key);
    return true;
  });
}

/** Small objects only: collects the whole stream. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** Hex SHA-256 of a stream, without holding it in memory. */
export async function sha256OfStream(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(stream, hash);
  return hash.digest('hex');
}
