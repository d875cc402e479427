// `angos scrub` (README.md, "Command line"): the checks live in src/maintenance/; this is the command's entry.
import type { Config } from '../config/types.ts';
import { runScrubChecks } from '../maintenance/scrub.ts';
import type { ScrubOptions } from '../maintenance/scrub-options.ts';
import { startupFailure } from './startup.ts';

export type { ScrubOptions } from '../maintenance/scrub-options.ts';

export function runScrub(config: Config, _configPaths: readonly string[], options: ScrubOptions): Promise<number> {
  return runScrubChecks(config, options, (reason) => startupFailure('scrub', reason));
}
