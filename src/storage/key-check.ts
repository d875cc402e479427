/**
 * Why a string cannot be a storage key, or undefined when it can. Every backend refuses the same shapes, so no
 * key, however built, can climb out of its root or prefix. The registry validates names long before this; this
 * is defence in depth.
 */
export function keyProblem(key: string): string | undefined {
  if (key === '') return 'empty';
  if (key.includes('\0')) return 'contains NUL';
  if (key.startsWith('/')) return 'starts with /';
  for (const component of key.split('/')) {
    if (component === '') return 'empty path component';
    if (component === '..' || component === '.') return `path component ${component}`;
  }
  return undefined;
}
