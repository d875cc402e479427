export type TomlValue = string | number | boolean | string[];

export interface RegistryConfig {
  /** Keys of `[global]`, e.g. `{ max_blob_size: 10 }`. */
  global?: Record<string, TomlValue>;
  /**
   * `[global.access_policy]`. Defaults to `default = "allow"`: with no policy at all the registry denies everything
   * (docs/configuration.md, `[global.access_policy]`), while most end-to-end tests assume anonymous callers are
   * allowed.
   */
  accessPolicy?: { default: 'allow' | 'deny'; rules?: string[] };
  /** Appended verbatim (other sections). */
  extra?: string;
}

/** The `extraToml` for `startServer`: `[global]` keys, the access policy, and anything else. */
export function registryToml(config: RegistryConfig = {}): string {
  const lines = ['[global]'];
  for (const [key, value] of Object.entries(config.global ?? {})) lines.push(`${key} = ${tomlValue(value)}`);
  const policy = config.accessPolicy ?? { default: 'allow' };
  lines.push('', '[global.access_policy]', `default = ${tomlValue(policy.default)}`);
  if (policy.rules !== undefined) lines.push(`rules = ${tomlValue(policy.rules)}`);
  if (config.extra !== undefined) lines.push('', config.extra);
  return `${lines.join('\n')}\n`;
}

// JSON string escapes are valid TOML basic-string escapes for the values tests use.
function tomlValue(value: TomlValue): string {
  if (Array.isArray(value)) return `[${value.map((item) => JSON.stringify(item)).join(', ')}]`;
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
