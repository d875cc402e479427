// Dispatches a parsed command line to its command.
import { runArgon } from './argon.ts';
import { parseCommandLine } from './program.ts';
import { runScrub } from './scrub.ts';
import { runServer } from './server.ts';
import { startCommand } from './startup.ts';
import { runWorker } from './worker.ts';

/** Runs `angos <argv>` and resolves with the process exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const parsed = await parseCommandLine(argv);
  if ('exitCode' in parsed) return parsed.exitCode;
  const { invocation } = parsed;
  if (invocation.command === 'argon') return runArgon();

  const config = await startCommand(invocation.configPaths);
  if (config === undefined) return 1;
  switch (invocation.command) {
    case 'server':
      return runServer(config, [...invocation.configPaths]);
    case 'scrub':
      return runScrub(config, invocation.configPaths, invocation.options);
    case 'worker':
      return runWorker(config, invocation.configPaths, invocation.options);
  }
}
