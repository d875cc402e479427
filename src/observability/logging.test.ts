import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const node = join(import.meta.dirname, '../../node_modules/.bin/node');
const loggingModule = join(import.meta.dirname, 'logging.ts');

interface Run {
  lines: Array<Record<string, unknown>>;
  stdout: string;
  stderr: string;
}

/** Runs `body` in a fresh Node process (logging state is per process) and parses its stdout. */
function runWithLogging(body: string, rustLog: string | undefined): Run {
  const script = `import { initLogging, logger } from ${JSON.stringify(loggingModule)};\n${body}`;
  const env = { ...process.env };
  delete env.RUST_LOG;
  if (rustLog !== undefined) env.RUST_LOG = rustLog;
  const result = spawnSync(node, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const lines = result.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { lines, stdout: result.stdout, stderr: result.stderr };
}

const everyLevel = `
initLogging(process.env.RUST_LOG);
for (const target of ['angos::registry::upload', 'angos::auth']) {
  const log = logger(target);
  log.error('e', { t: target }); log.warn('w'); log.info('i'); log.debug('d'); log.trace('t');
}`;

function messagesOf(run: Run): string[] {
  return run.lines.map((line) => `${line.target as string}:${(line.fields as { message: string }).message}`);
}

test('one JSON object per line with timestamp, level, fields.message and target', () => {
  const run = runWithLogging(
    `initLogging(undefined); logger('angos::registry::upload').info('Upload started', { size: 12, digest: 'sha256:ab' });`,
    undefined,
  );
  assert.equal(run.lines.length, 1);
  const line = run.lines[0]!;
  assert.deepEqual(Object.keys(line), ['timestamp', 'level', 'fields', 'target']);
  assert.match(line.timestamp as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  const skew = Math.abs(Date.parse(line.timestamp as string) - Date.now());
  assert.ok(skew < 60_000, `timestamp ${line.timestamp as string} is not the current UTC time`);
  assert.equal(line.level, 'INFO');
  assert.deepEqual(line.fields, { message: 'Upload started', size: 12, digest: 'sha256:ab' });
  assert.equal(line.target, 'angos::registry::upload');
});

test('unset or empty RUST_LOG logs info and above', () => {
  for (const value of [undefined, '', '  ']) {
    const run = runWithLogging(everyLevel, value);
    assert.deepEqual(messagesOf(run), [
      'angos::registry::upload:e',
      'angos::registry::upload:w',
      'angos::registry::upload:i',
      'angos::auth:e',
      'angos::auth:w',
      'angos::auth:i',
    ]);
  }
});

test('logging before initLogging uses the info default', () => {
  const run = runWithLogging(`logger('angos::x').info('early'); logger('angos::x').debug('hidden');`, 'trace');
  assert.deepEqual(messagesOf(run), ['angos::x:early']);
});

test('RUST_LOG=warn,angos::registry=debug: debug lines only from angos::registry targets', () => {
  const run = runWithLogging(everyLevel, 'warn,angos::registry=debug');
  assert.deepEqual(messagesOf(run), [
    'angos::registry::upload:e',
    'angos::registry::upload:w',
    'angos::registry::upload:i',
    'angos::registry::upload:d',
    'angos::auth:e',
    'angos::auth:w',
  ]);
  assert.deepEqual(
    run.lines.map((line) => line.level),
    ['ERROR', 'WARN', 'INFO', 'DEBUG', 'ERROR', 'WARN'],
  );
});

test('invalid directives give one stderr warning and the rest still applies', () => {
  const run = runWithLogging(everyLevel, 'error,angos=bogus,angos::auth=info,x=y');
  assert.equal(run.stderr.trim().split('\n').length, 1);
  assert.match(run.stderr, /'angos=bogus'.*'x=y'/);
  assert.deepEqual(messagesOf(run), ['angos::registry::upload:e', 'angos::auth:e', 'angos::auth:w', 'angos::auth:i']);
});

test('enabled() reflects the filter so callers can skip building expensive fields', () => {
  const run = runWithLogging(
    `initLogging('info'); const log = logger('angos::x');
     let built = 0;
     const fields = () => { built += 1; return { n: 1 }; };
     if (log.enabled('debug')) log.debug('d', fields());
     if (log.enabled('info')) log.info('i', fields());
     log.info('built', { built });`,
    undefined,
  );
  assert.deepEqual(
    run.lines.map((line) => line.fields),
    [{ message: 'i', n: 1 }, { message: 'built', built: 1 }],
  );
});

test('errors serialize as name, message, code and cause; odd values never break the line', () => {
  const run = runWithLogging(
    `initLogging();
     const err = Object.assign(new Error('open failed', { cause: new Error('disk') }), { code: 'ENOENT', password: 'hunter2' });
     const circular = { a: 1 }; circular.self = circular;
     const log = logger('angos::x');
     log.error('with error', { error: err, big: 10n, message: 'shadowed' });
     log.warn('with cycle', { circular });`,
    undefined,
  );
  assert.deepEqual(run.lines[0]!.fields, {
    message: 'with error',
    error: { name: 'Error', message: 'open failed', code: 'ENOENT', cause: { name: 'Error', message: 'disk' } },
    big: '10',
  });
  assert.ok(!run.stdout.includes('hunter2'));
  const second = run.lines[1]!.fields as Record<string, unknown>;
  assert.equal(second.message, 'with cycle');
  assert.match(String(second.log_fields_error), /circular/i);
});
