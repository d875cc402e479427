import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

const DEBOUNCE_MS = 100;

/**
 * Calls `onChange` 100 ms after the last change to one of the configuration files (docs/operations.md, "Hot
 * reload"). Directories are watched, not files, so an editor's rename-over-write and a Kubernetes ConfigMap swap of
 * `..data` are seen. Returns a function that stops watching.
 */
export function watchConfigFiles(paths: readonly string[], onChange: () => void): () => void {
  const names = new Set(paths.map((path) => basename(path)));
  let timer: NodeJS.Timeout | undefined;
  const watchers: FSWatcher[] = [...new Set(paths.map((path) => dirname(resolve(path))))].map((dir) =>
    watch(dir, (_event, name) => {
      if (name !== null && !names.has(name) && name !== '..data') return;
      clearTimeout(timer);
      timer = setTimeout(onChange, DEBOUNCE_MS);
    }),
  );
  return () => {
    clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
  };
}
