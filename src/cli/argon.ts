// `angos argon`: hashes a password for `[auth.identity.<name>].password` (docs/configuration.md).
// Reads no configuration. On a terminal the password is typed with echo off; otherwise one line
// is read from stdin, so scripts can pipe it in.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { argon2id, hash } from 'argon2';
import { initLogging } from '../observability/logging.ts';
import { startupFailure } from './startup.ts';

const PROMPT = 'Input Password: ';
// OWASP's Argon2id baseline, the parameters the original emits; verifiers read them from the string.
const MEMORY_KIB = 19456;
const ITERATIONS = 2;
const PARALLELISM = 1;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
// A password line longer than this is certainly not a password; stop buffering.
const MAX_LINE_BYTES = 64 * 1024;

class ArgonInputError extends Error {}

/** The prompt goes to the controlling terminal, so stdout carries nothing but the hash. */
function writePrompt(text: string): void {
  try {
    const tty = openSync('/dev/tty', 'w');
    try {
      writeSync(tty, text);
    } finally {
      closeSync(tty);
    }
  } catch {
    process.stderr.write(text);
  }
}

function readHiddenLine(): Promise<string> {
  const stdin = process.stdin;
  // Echo goes off before the prompt appears, so nothing typed after seeing it is ever shown.
  stdin.setRawMode(true);
  writePrompt(PROMPT);
  return new Promise((resolve, reject) => {
    let password = '';
    const finish = (error: Error | undefined) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      writePrompt('\n');
      if (error) reject(error);
      else resolve(password);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return finish(undefined);
        if (char === '\u0003') return finish(new ArgonInputError('interrupted'));
        if (char === '\u0004') return finish(password === '' ? new ArgonInputError('no password entered') : undefined);
        if (char === '\u007f' || char === '\b') password = [...password].slice(0, -1).join('');
        else if (char >= ' ') password += char;
      }
    };
    stdin.setEncoding('utf8');
    stdin.on('data', onData);
    stdin.resume();
  });
}

function readPipedLine(): Promise<string> {
  process.stderr.write(PROMPT);
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = (error: Error | undefined) => {
      stdin.off('data', onData).off('end', onEnd).off('error', onError);
      stdin.destroy();
      process.stderr.write('\n');
      if (error) return reject(error);
      const line = Buffer.concat(chunks).toString('utf8');
      const newline = line.indexOf('\n');
      resolve((newline === -1 ? line : line.slice(0, newline)).replace(/\r$/, ''));
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (chunk.includes(0x0a)) finish(undefined);
      else if (length > MAX_LINE_BYTES) finish(new ArgonInputError(`password line longer than ${MAX_LINE_BYTES} bytes`));
    };
    const onEnd = () => finish(length === 0 ? new ArgonInputError('no password given on standard input') : undefined);
    const onError = (error: Error) => finish(error);
    stdin.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

function unpaddedBase64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

/** PHC string with parameters in the `m,t,p` order the original prints (the binding writes `m,p,t`). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const digest = await hash(password, {
    type: argon2id,
    memoryCost: MEMORY_KIB,
    timeCost: ITERATIONS,
    parallelism: PARALLELISM,
    hashLength: HASH_BYTES,
    salt,
    raw: true,
  });
  return `$argon2id$v=19$m=${MEMORY_KIB},t=${ITERATIONS},p=${PARALLELISM}$${unpaddedBase64(salt)}$${unpaddedBase64(digest)}`;
}

export async function runArgon(): Promise<number> {
  initLogging(process.env.RUST_LOG);
  try {
    const password = process.stdin.isTTY ? await readHiddenLine() : await readPipedLine();
    process.stdout.write(`${await hashPassword(password)}\n`);
    return 0;
  } catch (error) {
    return startupFailure('argon', error instanceof Error ? error.message : String(error));
  }
}
