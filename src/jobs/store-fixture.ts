// Test helper: a real filesystem object store under a fresh temporary directory.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ObjectStore } from '../storage/object-store.ts';
import { openFsStore } from '../storage/open-store.ts';

export async function tempStore(): Promise<{ store: ObjectStore; rootDir: string; close: () => Promise<void> }> {
  const rootDir = await mkdtemp(join(tmpdir(), 'angos-jobs-'));
  return { store: openFsStore(rootDir, false), rootDir, close: () => rm(rootDir, { recursive: true, force: true }) };
}
