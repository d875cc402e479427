// `angos argon`, and the options of `angos worker` and `angos scrub` (README.md, "Command line").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verify } from 'argon2';
import { inTempDir, MINIMAL_CONFIG, runCli } from './cli-process.ts';

const PHC = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$/;

test('argon hashes one stdin line, reading no configuration', async () => {
  await inTempDir({}, async (cwd) => {
    const result = await runCli(['-c', 'does-not-exist.toml', 'argon'], { cwd, input: 'hunter2\nignored second line\n' });
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.split('\n');
    assert.deepEqual(lines.slice(1), [''], 'stdout is exactly one line');
    const phc = lines[0]!;
    const match = PHC.exec(phc);
    assert.ok(match, phc);
    assert.equal(Buffer.from(match[1]!, 'base64').length, 16);
    assert.equal(Buffer.from(match[2]!, 'base64').length, 32);
    assert.ok(await verify(phc, 'hunter2'));
    assert.ok(!(await verify(phc, 'hunter2\n')));
    assert.ok(!(await verify(phc, 'ignored second line')));
    assert.match(result.stderr, /Input Password: /);
  });
});

test('argon: CRLF line ends and a missing final newline are not part of the password; salts differ', async () => {
  await inTempDir({}, async (cwd) => {
    const crlf = await runCli(['argon'], { cwd, input: 'p4ss\r\n' });
    const bare = await runCli(['argon'], { cwd, input: 'p4ss' });
    assert.equal(crlf.code, 0);
    assert.equal(bare.code, 0);
    assert.ok(await verify(crlf.stdout.trim(), 'p4ss'));
    assert.ok(await verify(bare.stdout.trim(), 'p4ss'));
    assert.notEqual(crlf.stdout, bare.stdout);
  });
});

test('argon: an empty line is accepted, no input at all is an Argon error', async () => {
  await inTempDir({}, async (cwd) => {
    const empty = await runCli(['argon'], { cwd, input: '\n' });
    assert.equal(empty.code, 0);
    assert.ok(await verify(empty.stdout.trim(), ''));

    const none = await runCli(['argon'], { cwd, input: '' });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /Argon error: no password given on standard input/);
    assert.equal(none.logs.length, 1);
    assert.equal(none.logs[0]!.level, 'ERROR');
    assert.equal(none.logs[0]!.fields.message, 'Argon error: no password given on standard input');
  });
});

test('worker needs [global.job_queue]', async () => {
  await inTempDir({ 'config.toml': MINIMAL_CONFIG }, async (cwd) => {
    // With the section the worker starts and runs until stopped: test/e2e/worker.test.ts.
    const missing = await runCli(['worker'], { cwd });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\[global\.job_queue\] is required for the worker subcommand/);
    assert.ok(missing.logs.some((log) => log.level === 'ERROR' && String(log.fields.message).includes('[global.job_queue] is required')));

  });
});

test('worker option errors name the bad value', async () => {
  await inTempDir({ 'config.toml': MINIMAL_CONFIG }, async (cwd) => {
    const bogus = await runCli(['worker', '--queue', 'bogus'], { cwd });
    assert.equal(bogus.code, 1);
    assert.match(bogus.stderr, /unknown queue 'bogus'; expected 'cache' or 'replication'/);
    assert.equal(bogus.stdout, '', 'usage errors come before the configuration is read');

    const decimal = await runCli(['worker', '--poll-interval', '1.5s'], { cwd });
    assert.equal(decimal.code, 1);
    assert.match(decimal.stderr, /'--poll-interval <duration>' argument '1\.5s' is invalid/);

    const equals = await runCli(['worker', '--queue=cache', '--poll-interval=2s'], { cwd });
    assert.match(equals.stderr, /required for the worker subcommand/, '--opt=value parses and reaches the configuration check');
  });
});

test('scrub option parsing', async () => {
  await inTempDir({ 'config.toml': MINIMAL_CONFIG }, async (cwd) => {
    const usage = await runCli(['scrub', '--uploads', '10'], { cwd });
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /'-u, --uploads <duration>' argument '10' is invalid/);
    assert.match(usage.stderr, /\nUsage: angos scrub \[options\]\n/);

    for (const args of [
      ['scrub', '-d', '-t', '-m', '-b', '-r'],
      ['scrub', '--uploads', '1h', '--dry-run'],
      ['scrub', '-tmbr', '-u', '1h 30m', '--orphan-grants=24h', '-p', '2d', '-l', '-M', '-R', '-n'],
      ['scrub', '--dry-run', '--replication-orphans', '--cache-orphans', '--reconcile-blob-index'],
    ]) {
      const result = await runCli(args, { cwd });
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    }
    // Replication does not exist yet: its reconciliation is refused before anything runs.
    const replicate = await runCli(['scrub', '--replicate', '--dry-run', '-b'], { cwd });
    assert.equal(replicate.code, 1);
    assert.match(replicate.stderr, /scrub is not implemented yet for --replicate/);
  });
});
