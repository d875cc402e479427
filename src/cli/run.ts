// Dispatches a parsed command line to its command. Command modules are imported on demand: the
// server pulls in the whole registry and `argon` a native addon, neither needed to print help.
import { parseCommandLine } from './program.ts';
import { startCommand } from './startup.ts';

/** Runs `angos <argv>` and resolves with the process exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const parsed = await parseCommandLine(argv);
  if ('exitCode' in parsed) return parsed.exitCode;
  const { invocation } = parsed;
  if (invocation.command === 'argon') return (await import('./argon.ts')).runArgon();

  const config = await startCommand(invocation.configPaths);
  if (config === undefined) return 1;
  switch (invocation.command) {
    case 'server':
      return (await import('./server.ts')).runServer(config, [...invocation.configPaths]);
    case 'scrub':
      return (await import('./scrub.ts')).runScrub(config, invocation.configPaths, invocation.options);
    case 'worker':
      return (await import('./worker.ts')).runWorker(config, invocation.configPaths, invocation.options);
  }
}
