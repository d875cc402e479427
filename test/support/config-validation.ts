import assert from 'node:assert/strict';
import { parse } from 'smol-toml';
import { ConfigValueError } from '../../src/config/table-reader.ts';
import type { Config } from '../../src/config/types.ts';
import { validateConfig } from '../../src/config/validate.ts';

/** The smallest valid document; the sections under test are appended to it. */
export const MINIMAL_CONFIG = '[server]\nbind_address = "127.0.0.1"\n[blob_store.fs]\nroot_dir = "/data"\n';

/** Validates `MINIMAL_CONFIG` + `toml` as the loader does (integers as bigint). */
export function loadConfig(toml: string): Config {
  return validateConfig(parse(MINIMAL_CONFIG + toml, { integersAsBigInt: true }));
}

/** The message of the ConfigValueError that loading `MINIMAL_CONFIG` + `toml` must throw. */
export function configFailure(toml: string): string {
  let message = '';
  assert.throws(() => loadConfig(toml), (error: unknown) => {
    message = error instanceof ConfigValueError ? error.message : '';
    return error instanceof ConfigValueError;
  });
  return message;
}
