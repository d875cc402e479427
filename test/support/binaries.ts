import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';

/** Absolute path of an executable found on PATH, or undefined. */
export function findBinary(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this PATH entry
    }
  }
  return undefined;
}

/**
 * True when every named binary is on PATH. Otherwise a developer's run skips the test with the
 * reason, while CI fails it: a CI machine that lacks a client must not turn real-client tests green.
 * Use as `if (!requireBinary(t, 'skopeo', 'umoci')) return;`.
 */
export function requireBinary(t: TestContext, ...names: string[]): boolean {
  const missing = names.filter((name) => findBinary(name) === undefined);
  if (missing.length === 0) return true;
  const reason = `missing ${missing.join(', ')} on PATH (Debian: apt-get install -y ${missing.join(' ')})`;
  if (process.env.CI) throw new Error(`${reason}; CI must install it (see .ci/run)`);
  t.skip(reason);
  return false;
}

export interface RunResult {
  stdout: Buffer;
  stderr: string;
}

/** Runs a binary to completion; a non-zero exit throws with the full command line and both outputs. */
export function runBinary(name: string, args: readonly string[], options: { cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    execFile(
      name,
      args,
      { cwd: options.cwd, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new Error(
              `${name} ${args.join(' ')} failed (${error.code ?? error.signal}):\n` +
                `stdout: ${stdout.toString()}\nstderr: ${stderr.toString()}`,
            ),
          );
          return;
        }
        resolveRun({ stdout, stderr: stderr.toString() });
      },
    );
  });
}
