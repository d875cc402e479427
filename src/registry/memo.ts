import type { ObjectStore } from '../storage/object-store.ts';

/**
 * What was computed from the keys directly below a prefix, reused while the store's change stamp for that prefix
 * holds (chapter 04 §2.6 keeps the link cache off on a filesystem; this is not one: every use re-checks the stamp,
 * so nothing is ever served staler than a fresh read). A store without stamps gets a fresh computation each time.
 * Least recently used prefixes are dropped beyond `capacity`.
 */
export class PrefixMemo<V> {
  readonly #store: ObjectStore;
  readonly #capacity: number;
  readonly #entries = new Map<string, { stamp: string; value: V }>();

  constructor(store: ObjectStore, capacity: number) {
    this.#store = store;
    this.#capacity = capacity;
  }

  /** Whether values can be reused at all: false on stores that cannot stamp (callers pick cheaper direct reads). */
  get active(): boolean {
    return this.#store.changeStamp !== undefined;
  }

  /**
   * The value for `prefix` (or for several prefixes together), computed by `compute` unless every stamp is
   * unchanged since the last computation. Stamps are taken before computing, so a change racing the computation
   * leaves a stamp that no longer matches.
   */
  async get(prefix: string | readonly string[], compute: () => Promise<V>): Promise<V> {
    const prefixes = typeof prefix === 'string' ? [prefix] : prefix;
    const stamps = await Promise.all(prefixes.map((one) => this.#store.changeStamp?.(one)));
    if (stamps.some((stamp) => stamp === undefined)) return compute();
    const key = prefixes.join('\n');
    const stamp = stamps.join('\n');
    const hit = this.#entries.get(key);
    if (hit?.stamp === stamp) {
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit.value;
    }
    const value = await compute();
    this.#entries.delete(key);
    this.#entries.set(key, { stamp, value });
    if (this.#entries.size > this.#capacity) this.#entries.delete(this.#entries.keys().next().value!);
    return value;
  }
}
