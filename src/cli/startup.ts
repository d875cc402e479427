// The first steps of the start-up shared by `server`, `scrub` and `worker` (docs/operations.md, "Start-up"):
// configuration first (its failure is plain text on stderr, since logging is not up yet), then logging, then the
// warnings collected while loading.
import { ConfigError, loadConfig } from '../config/load.ts';
import type { Config } from '../config/types.ts';
import { initLogging, logger } from '../observability/logging.ts';

const configLog = logger('angos::configuration');

/** The loaded configuration, or undefined after reporting why it could not be loaded. */
export async function startCommand(configPaths: readonly string[]): Promise<Config | undefined> {
  let config: Config;
  try {
    config = await loadConfig(configPaths);
  } catch (error) {
    const message = error instanceof ConfigError ? error.message : `Failed to load configuration from ${configPaths.join(', ')}: ${String(error)}`;
    process.stderr.write(`${message}\n`);
    return undefined;
  }
  initLogging(process.env.RUST_LOG);
  for (const warning of config.warnings) configLog.warn(warning);
  return config;
}

/**
 * Reports a failure to start `command` as `<Command> error: <reason>`: as an error log for log
 * pipelines and as plain text on stderr for whoever ran the command. Returns the exit code 1.
 */
export function startupFailure(command: string, reason: string): number {
  const line = `${command.charAt(0).toUpperCase()}${command.slice(1)} error: ${reason}`;
  logger(`angos::command::${command}`).error(line);
  process.stderr.write(`${line}\n`);
  return 1;
}
