// Entry point of the `angos` command (README.md, "Command line").
import { runCli } from './run.ts';

let exitCode: number;
try {
  exitCode = await runCli(process.argv.slice(2));
} catch (error) {
  // Last resort for a bug: one readable line and exit 1 rather than an unhandled rejection dump.
  process.stderr.write(`angos: fatal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  exitCode = 1;
}
process.exitCode = exitCode;
// A command that has finished must not be kept alive by a stray handle (an idle socket, a timer).
setTimeout(() => process.exit(exitCode), 2000).unref();
