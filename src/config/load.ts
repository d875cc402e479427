// Reading, parsing and merging the `-c` files (docs/configuration.md), then validating the merged document.
import { readFile } from 'node:fs/promises';
import { parse, TomlError } from 'smol-toml';
import { mergeTables } from './merge.ts';
import { ConfigValueError, type TomlTableValue } from './table-reader.ts';
import type { Config } from './types.ts';
import { validateConfig } from './validate.ts';

export const DEFAULT_CONFIG_PATH = 'config.toml';

/** A load failure; `message` is the full start-up line, `reason` the part after the file list. */
export class ConfigError extends Error {
  readonly paths: readonly string[];
  readonly reason: string;

  constructor(paths: readonly string[], reason: string) {
    super(`Failed to load configuration from ${paths.join(', ')}: ${reason}`);
    this.name = 'ConfigError';
    this.paths = paths;
    this.reason = reason;
  }
}

async function readDocument(path: string, paths: readonly string[]): Promise<TomlTableValue> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new ConfigError(paths, `Unable to read configuration file ${path}: ${(error as Error).message}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ConfigError(paths, `${path}: the file is not valid UTF-8`);
  }
  try {
    return parse(text, { integersAsBigInt: true });
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const summary = error.message.split('\n')[0] ?? error.message;
    throw new ConfigError(paths, `${path}: ${summary} at line ${error.line}, column ${error.column}`);
  }
}

/** Loads and merges the files in order (later wins); no paths means `./config.toml`. */
export async function loadConfig(paths: readonly string[]): Promise<Config> {
  const files = paths.length === 0 ? [DEFAULT_CONFIG_PATH] : [...paths];
  let document = Object.create(null) as TomlTableValue;
  for (const path of files) document = mergeTables(document, await readDocument(path, files));
  try {
    return validateConfig(document);
  } catch (error) {
    if (!(error instanceof ConfigValueError)) throw error;
    const origin = files.length > 1 ? `; merged from ${files.join(', ')}` : '';
    throw new ConfigError(files, `${error.message}${origin}`);
  }
}
