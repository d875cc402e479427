export { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from './load.ts';
export { belongsTo } from './repository-section.ts';
export { parseDuration, DurationError } from './duration.ts';
export { parseSize, SizeError } from './size.ts';
export type * from './types.ts';
