// `angos argon` on a terminal: it prompts, and reads with echo off. A real pseudo-terminal is needed; Python's pty
// module provides one without extra packages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { verify } from 'argon2';
import { requireBinary } from '../support/binaries.ts';

const repoRoot = resolve(import.meta.dirname, '../..');

// Waits for the prompt, types a password with a typo corrected by backspace, then reports
// everything the terminal showed and the exit status.
const DRIVER = `
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], sys.argv[2], 'argon'])
seen = b''
def read_more():
    global seen
    try:
        data = os.read(fd, 1024)
    except OSError:
        return False
    seen += data
    return bool(data)
while b'Input Password: ' not in seen and read_more():
    pass
os.write(fd, b'hunterX\\x7f2\\r')
while read_more():
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(repr(seen) + '\\n' + str(os.WEXITSTATUS(status)) + '\\n')
`;

test('argon on a terminal: prompt, no echo, backspace edits, hash on stdout', async (t) => {
  if (!requireBinary(t, 'python3')) return;
  const { stdout } = await promisify(execFile)('python3', ['-c', DRIVER, join(repoRoot, 'node_modules/.bin/node'), join(repoRoot, 'src/cli/main.ts')]);
  const [seenRepr = '', status] = stdout.trim().split('\n');
  assert.equal(status, '0', seenRepr);
  assert.ok(seenRepr.startsWith("b'Input Password: "), seenRepr);
  assert.ok(!seenRepr.includes('hunter'), `the password was echoed: ${seenRepr}`);
  const phc = /\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+/.exec(seenRepr)?.[0];
  assert.ok(phc, seenRepr);
  assert.ok(await verify(phc, 'hunter2'));
});
