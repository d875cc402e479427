import type { ObjectStore } from '../storage/object-store.ts';
import { isNotFound } from '../storage/object-store.ts';

/** Reads a small JSON record; undefined when absent. An unparsable record throws (a storage fault, not "absent"). */
export async function readJson<T>(store: ObjectStore, key: string): Promise<T | undefined> {
  try {
    return JSON.parse((await store.get(key)).toString('utf8')) as T;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function exists(store: ObjectStore, key: string): Promise<boolean> {
  try {
    await store.head(key);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Every key under a prefix, across pages. For bounded sets only (one tag's events, one digest's references). */
export async function listAll(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let startAfter: string | undefined;
  do {
    const page = await store.list(prefix, startAfter === undefined ? {} : { startAfter });
    keys.push(...page.keys);
    startAfter = page.next;
  } while (startAfter !== undefined);
  return keys;
}
