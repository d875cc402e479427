import { keyProblem } from '../key-check.ts';
/**
 * Maps store keys to bucket keys under the configured `key_prefix` (`<prefix>/<key>`, trailing `/` trimmed), so two
 * deployments sharing a bucket under different prefixes never see each other's keys.
 */
export class S3Keys {
  readonly #root: string;

  constructor(keyPrefix: string) {
    const trimmed = keyPrefix.replace(/\/+$/, '');
    this.#root = trimmed === '' ? '' : `${trimmed}/`;
  }

  /** The bucket key of a store key. */
  full(key: string): string {
    const problem = keyProblem(key);
    if (problem !== undefined) throw new Error(`invalid storage key ${JSON.stringify(key)}: ${problem}`);
    return `${this.#root}${key}`;
  }

  /** Any string (a listing position need not be a valid key) moved under the prefix. */
  position(text: string): string {
    return `${this.#root}${text}`;
  }

  /** The bucket prefix every key below `prefix/` starts with (`''` is the whole store; one trailing `/` is ignored). */
  under(prefix: string): string {
    const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
    return trimmed === '' ? this.#root : `${this.full(trimmed)}/`;
  }

  /** The store key of a bucket key this store wrote. */
  strip(bucketKey: string): string {
    return bucketKey.slice(this.#root.length);
  }

  /**
   * Where an upload parks its remainder (`…/_uploads/<uuid>/staged/<offset>`, docs/storage.md, "S3 uploads"):
   * beside the upload key, never under it, since a key is never a directory. One upload per directory, as the
   * session layout guarantees.
   */
  stagedDir(uploadKey: string): string {
    const full = this.full(uploadKey);
    const slash = full.lastIndexOf('/');
    return `${slash === -1 ? '' : full.slice(0, slash + 1)}staged/`;
  }
}
