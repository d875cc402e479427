import type { ObjectStore } from '../../storage/object-store.ts';
import { mapLimited } from '../map-limited.ts';

/**
 * What was computed from the keys directly below a prefix, reused while the store's change stamp for that prefix
 * holds (docs/storage.md, "Lookups on a filesystem"; this is not the link cache, which a filesystem never uses:
 * every use re-checks the stamp, so nothing is ever served staler than a fresh read). A store without stamps gets a
 * fresh computation each time. Least recently used prefixes are dropped beyond `capacity`.
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
    return this.#store.changeStamps !== undefined;
  }

  /**
   * The value for `prefix` (or for several prefixes together), computed by `compute` unless every stamp is
   * unchanged since the last computation. Stamps are taken before computing, so a change racing the computation
   * leaves a stamp that no longer matches.
   */
  async get(prefix: string | readonly string[], compute: () => Promise<V>): Promise<V> {
    const prefixes = typeof prefix === 'string' ? [prefix] : prefix;
    const stamps = (await this.#store.changeStamps?.(prefixes)) ?? [undefined];
    if (stamps.includes(undefined)) return compute();
    const key = prefixes.join('\n');
    const stamp = stamps.join('\n');
    const hit = this.#reuse(key, stamp);
    return hit ? hit.value : this.#remember(key, stamp, await compute());
  }

  /**
   * `get` for many single prefixes with one stamp check for all of them (a catalog page tests every namespace);
   * `compute(i)` runs, at most `concurrency` at a time, only where the stamp of `prefixes[i]` moved.
   */
  async getMany(prefixes: readonly string[], compute: (index: number) => Promise<V>, concurrency: number): Promise<V[]> {
    const stamps = (await this.#store.changeStamps?.(prefixes)) ?? prefixes.map(() => undefined);
    const values = new Array<V>(prefixes.length);
    const missing: number[] = [];
    for (const [index, prefix] of prefixes.entries()) {
      const stamp = stamps[index];
      const hit = stamp === undefined ? undefined : this.#reuse(prefix, stamp);
      if (hit) values[index] = hit.value;
      else missing.push(index);
    }
    await mapLimited(missing, concurrency, async (index) => {
      const value = await compute(index);
      const stamp = stamps[index];
      values[index] = stamp === undefined ? value : this.#remember(prefixes[index]!, stamp, value);
    });
    return values;
  }

  /** The entry for `key` if made at `stamp`, now the most recently used. */
  #reuse(key: string, stamp: string): { value: V } | undefined {
    const hit = this.#entries.get(key);
    if (hit?.stamp !== stamp) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, hit);
    return hit;
  }

  #remember(key: string, stamp: string, value: V): V {
    this.#entries.delete(key);
    this.#entries.set(key, { stamp, value });
    if (this.#entries.size > this.#capacity) this.#entries.delete(this.#entries.keys().next().value!);
    return value;
  }
}

/**
 * One value computed from a whole tree of prefixes, found while computing it: `compute` calls `visit(prefix)`
 * before listing each prefix, and the value is reused while every visited prefix's stamp holds. A key added
 * anywhere changes its own prefix's stamp, or creates a prefix, which changes its parent's.
 */
export class TreeMemo<V> {
  readonly #store: ObjectStore;
  #entry: { prefixes: string[]; stamp: string; value: V } | undefined;

  constructor(store: ObjectStore) {
    this.#store = store;
  }

  /** Whether values can be reused at all (see `PrefixMemo.active`). */
  get active(): boolean {
    return this.#store.changeStamps !== undefined;
  }

  async get(compute: (visit: (prefix: string) => Promise<void>) => Promise<V>): Promise<V> {
    const entry = this.#entry;
    if (entry && (await this.#stampOf(entry.prefixes)) === entry.stamp) return entry.value;
    const prefixes: string[] = [];
    const stamps: Array<string | undefined> = [];
    const value = await compute(async (prefix) => {
      prefixes.push(prefix);
      stamps.push(...((await this.#store.changeStamps?.([prefix])) ?? [undefined]));
    });
    this.#entry = stamps.includes(undefined) ? undefined : { prefixes, stamp: stamps.join('\n'), value };
    return value;
  }

  async #stampOf(prefixes: readonly string[]): Promise<string | undefined> {
    const stamps = (await this.#store.changeStamps?.(prefixes)) ?? [undefined];
    return stamps.includes(undefined) ? undefined : stamps.join('\n');
  }
}
