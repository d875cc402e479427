// Folding several parsed files into one document (docs/configuration.md): tables merge key by key at every depth;
// anything else, arrays and arrays of tables included, is replaced whole by the later file.
import { isTable, type TomlTableValue } from './table-reader.ts';

export function mergeTables(base: TomlTableValue, override: TomlTableValue): TomlTableValue {
  // Null prototype, like the parser's own tables, so keys such as `__proto__` stay plain data.
  const merged = Object.create(null) as TomlTableValue;
  for (const key of Object.keys(base)) merged[key] = base[key];
  for (const key of Object.keys(override)) {
    const earlier = merged[key];
    const later = override[key];
    merged[key] = isTable(earlier) && isTable(later) ? mergeTables(earlier, later) : later;
  }
  return merged;
}
