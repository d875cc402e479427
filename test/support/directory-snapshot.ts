import { readdir } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';

/**
 * Every path under `dir`, relative to it, except the subtrees of `skip` (absolute paths). An entry that vanishes
 * while it is listed (a concurrent delete) is simply not there.
 */
export async function listTree(dir: string, skip: readonly string[] = []): Promise<Set<string>> {
  const found = new Set<string>();
  const walk = async (current: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(current, entry.name);
      if (skip.includes(path)) continue;
      found.add(relative(dir, path));
      if (entry.isDirectory()) await walk(path);
    }
  };
  await walk(dir);
  return found;
}

/** The names directly inside `dir`. */
export async function listChildren(dir: string): Promise<Set<string>> {
  try {
    return new Set(await readdir(dir));
  } catch {
    return new Set();
  }
}

/** What `after` holds that `before` did not, sorted. */
export function addedEntries(before: ReadonlySet<string>, after: ReadonlySet<string>): string[] {
  return [...after].filter((entry) => !before.has(entry)).sort();
}

/** `dir`'s parent, its parent, … up to the filesystem root: where a `..` escaping `dir` would land. */
export function ancestorsOf(dir: string): string[] {
  const ancestors: string[] = [];
  for (let current = dirname(dir); ; current = dirname(current)) {
    ancestors.push(current);
    if (current === dirname(current) || current === sep) return ancestors;
  }
}
