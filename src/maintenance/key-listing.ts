// Paged walks of one prefix for scrub's namespace checks, so a namespace with many keys is never held in memory whole.
import type { Child, ObjectStore } from '../storage/object-store.ts';

const PAGE = 1000;

/** Every key below `prefix/`, ascending. */
export async function* keysUnder(store: ObjectStore, prefix: string): AsyncGenerator<string> {
  let startAfter: string | undefined;
  do {
    const page = await store.list(prefix, { limit: PAGE, ...(startAfter !== undefined ? { startAfter } : {}) });
    yield* page.keys;
    startAfter = page.next;
  } while (startAfter !== undefined);
}

/** The children one level below `prefix/`, ascending. */
export async function* childrenUnder(store: ObjectStore, prefix: string): AsyncGenerator<Child> {
  let startAfter: string | undefined;
  do {
    const page = await store.listChildren(prefix, { limit: PAGE, ...(startAfter !== undefined ? { startAfter } : {}) });
    yield* page.children;
    startAfter = page.next;
  } while (startAfter !== undefined);
}
