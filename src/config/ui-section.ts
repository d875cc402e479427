// `[ui]`: the web UI is off unless asked for (and not built yet: docs/configuration.md, "Sections accepted but not
// acted on yet").
import type { TableReader } from './table-reader.ts';
import type { UiConfig } from './types.ts';

export function readUi(root: TableReader): UiConfig {
  const ui = root.table('ui');
  if (ui === undefined) return { enabled: false, name: 'Angos' };
  const config = { enabled: ui.bool('enabled') ?? false, name: ui.string('name') ?? 'Angos' };
  ui.finish();
  return config;
}
