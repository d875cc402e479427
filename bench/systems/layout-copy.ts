import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What a registry wrote on disk for one request (a tag put, a namespace mounted), to be written again under other
 * names. Putting 100,000 tags over HTTP takes too long on both registries here: Distribution takes about 180
 * manifest PUTs per second (32 at a time), this registry's rate falls as the namespace's tags grow (from ~270/s
 * at 500 tags to ~10/s at 4,000, see the README). Both write one file or directory per fact, named after the tag
 * or namespace, with contents that never name them, and change no existing file for such a request; so copying
 * the entries a request created, renamed, is what the registry itself would have written for the same request
 * (`expectSameEntries` checks that on one more request made over HTTP).
 */
export interface CreatedEntries {
  /** The name (tag or namespace) every created path contains, replaced by the copy's name. */
  name: string;
  /** Relative paths: directories end in `/` and come before what they hold. */
  entries: Array<{ path: string; bytes: Buffer; mode: number }>;
}

export type Snapshot = Map<string, { bytes: Buffer; mode: number }>;

/** Every directory and file under `root` (small trees only: taken before the data is copied). */
export function snapshot(root: string): Snapshot {
  const entries: Snapshot = new Map();
  const walk = (relative: string): void => {
    for (const entry of readdirSync(join(root, relative), { withFileTypes: true })) {
      const path = `${relative}${entry.name}`;
      const mode = statSync(join(root, path)).mode & 0o777;
      if (entry.isDirectory()) {
        entries.set(`${path}/`, { bytes: Buffer.alloc(0), mode });
        walk(`${path}/`);
      } else {
        entries.set(path, { bytes: readFileSync(join(root, path)), mode });
      }
    }
  };
  walk('');
  return entries;
}

/** The entries `after` has and `before` had not; throws if the request changed or removed anything. */
export function createdEntries(before: Snapshot, after: Snapshot, name: string): CreatedEntries {
  for (const [path, entry] of before) {
    const now = after.get(path);
    if (now === undefined || !now.bytes.equals(entry.bytes)) throw new Error(`${path} changed: the request cannot be copied as new files`);
  }
  const entries = [...after].filter(([path]) => !before.has(path)).map(([path, entry]) => ({ path, ...entry }));
  entries.sort((a, b) => (a.path < b.path ? -1 : 1));
  for (const { path } of entries) if (!path.includes(name)) throw new Error(`${path} does not name '${name}': it cannot be renamed`);
  return { name, entries };
}

export function writeRenamed(root: string, created: CreatedEntries, name: string): void {
  for (const entry of created.entries) {
    const path = join(root, entry.path.replaceAll(created.name, name));
    if (entry.path.endsWith('/')) mkdirSync(path, { recursive: true, mode: entry.mode });
    else writeFileSync(path, entry.bytes, { mode: entry.mode });
  }
}

/**
 * Throws unless `made` (what the registry wrote for `name` over HTTP) is `template` renamed to `name`, up to the
 * request's clock: 16-hex-digit inverted timestamps in names and ISO times in contents.
 */
export function expectSameEntries(made: CreatedEntries, template: CreatedEntries, name: string): void {
  const clockFree = (text: string): string => text.replace(/![0-9a-f]{16}\./g, '!<ord>.').replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>');
  const describe = (created: CreatedEntries, rename: boolean): string =>
    JSON.stringify(
      created.entries.map((entry) => [
        clockFree(rename ? entry.path.replaceAll(created.name, name) : entry.path),
        clockFree(entry.bytes.toString('latin1')),
        entry.mode,
      ]),
    );
  if (describe(made, false) !== describe(template, true)) {
    throw new Error(`'${name}' over HTTP wrote other entries than a copy of '${template.name}' would:\n${describe(made, false)}\n${describe(template, true)}`);
  }
}
