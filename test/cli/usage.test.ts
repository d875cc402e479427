// Help and usage errors (README.md, "Command line") never read configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inTempDir, runCli } from './cli-process.ts';

test('help forms print usage on stdout and exit 0 without a config.toml', async () => {
  await inTempDir({}, async (cwd) => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const result = await runCli(args, { cwd });
      assert.equal(result.code, 0, args.join(' '));
      assert.equal(result.stderr, '');
      assert.match(result.stdout, /^Usage: angos \[-c <path>\]\.\.\. <command> \[options\]/);
      for (const command of ['server', 'scrub', 'worker', 'argon']) assert.match(result.stdout, new RegExp(`\\n  ${command}\\b`));
      assert.match(result.stdout, /-c, --config <path>/);
    }
  });
});

test('command help lists its options, via `help <command>` and `<command> --help`', async () => {
  await inTempDir({}, async (cwd) => {
    const expected: Record<string, string[]> = {
      scrub: ['-d, --dry-run', '-u, --uploads <duration>', '-p, --multipart <duration>', '-t, --tags', '-m, --manifests', '-b, --blobs', '-r, --retention', '-l, --links', '--reconcile-blob-index', '-M, --media-types', '-R, --referrers', '--replicate', '--replication-orphans', '--cache-orphans', '--orphan-grants <duration>', '-n, --orphan-namespaces'],
      worker: ['--queue <name>', '--poll-interval <duration>'],
      server: [],
      argon: [],
    };
    for (const [command, options] of Object.entries(expected)) {
      for (const args of [['help', command], [command, '--help']]) {
        const result = await runCli(args, { cwd });
        assert.equal(result.code, 0, args.join(' '));
        assert.match(result.stdout, new RegExp(`^Usage: angos ${command}`));
        for (const option of options) assert.ok(result.stdout.includes(option), `${args.join(' ')} lacks ${option}`);
      }
    }
  });
});

test('no command or an unknown command is a usage error on stderr', async () => {
  await inTempDir({}, async (cwd) => {
    const none = await runCli([], { cwd });
    assert.equal(none.code, 1);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /Usage: angos/);

    const unknown = await runCli(['frobnicate'], { cwd });
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stdout, '');
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    assert.match(unknown.stderr, /\nUsage: angos \[-c <path>\]\.\.\. <command> \[options\]\n/);
  });
});

test('-c after the command word is an unknown option', async () => {
  await inTempDir({}, async (cwd) => {
    const result = await runCli(['server', '-c', 'x.toml'], { cwd });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /unknown option '-c'/);
    assert.doesNotMatch(result.stderr, /Failed to load configuration/);
  });
});

test('unknown options, missing values and extra arguments are usage errors', async () => {
  await inTempDir({}, async (cwd) => {
    const cases: Array<[string[], RegExp]> = [
      [['scrub', '--frobnicate'], /unknown option '--frobnicate'/],
      [['scrub', '--uploads'], /argument missing/],
      [['-c'], /argument missing/],
      [['server', 'extra'], /too many arguments/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args, { cwd });
      assert.equal(result.code, 1, args.join(' '));
      assert.match(result.stderr, message, args.join(' '));
      assert.equal(result.stdout, '');
    }
  });
});
