import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandLine, type Invocation } from './program.ts';

const HOUR = 3_600_000;

async function invocation(argv: string[]): Promise<Invocation> {
  const parsed = await parseCommandLine(argv);
  assert.ok('invocation' in parsed, `expected ${argv.join(' ')} to parse`);
  return parsed.invocation;
}

const NO_CHECKS = {
  dryRun: false,
  uploadsOlderThanMs: undefined,
  multipartOlderThanMs: undefined,
  orphanGrantsOlderThanMs: undefined,
  tags: false,
  manifests: false,
  blobs: false,
  retention: false,
  links: false,
  reconcileBlobIndex: false,
  mediaTypes: false,
  referrers: false,
  replicate: false,
  replicationOrphans: false,
  cacheOrphans: false,
  orphanNamespaces: false,
};

test('config paths default to config.toml and keep -c order', async () => {
  assert.deepEqual(await invocation(['server']), { command: 'server', configPaths: ['config.toml'] });
  assert.deepEqual(await invocation(['-c', 'base.toml', '--config', 'secrets.toml', 'server']), { command: 'server', configPaths: ['base.toml', 'secrets.toml'] });
  assert.deepEqual(await invocation(['--config=a.toml', 'server']), { command: 'server', configPaths: ['a.toml'] });
  assert.deepEqual(await invocation(['-c', 'x.toml', 'argon']), { command: 'argon' });
});

test('scrub flags and durations, long and short, separate and clustered', async () => {
  const short = await invocation(['scrub', '-d', '-t', '-m', '-b', '-r']);
  assert.deepEqual(short, { command: 'scrub', configPaths: ['config.toml'], options: { ...NO_CHECKS, dryRun: true, tags: true, manifests: true, blobs: true, retention: true } });
  assert.deepEqual(await invocation(['scrub', '-dtmbr']), short);

  const everything = await invocation([
    'scrub', '--dry-run', '--uploads', '1h', '--multipart=2d', '--tags', '--manifests', '--blobs', '--retention', '--links',
    '--reconcile-blob-index', '--media-types', '--referrers', '--replicate', '--replication-orphans', '--cache-orphans',
    '--orphan-grants', '24h', '--orphan-namespaces',
  ]);
  assert.deepEqual(everything, {
    command: 'scrub',
    configPaths: ['config.toml'],
    options: {
      dryRun: true, uploadsOlderThanMs: HOUR, multipartOlderThanMs: 48 * HOUR, orphanGrantsOlderThanMs: 24 * HOUR,
      tags: true, manifests: true, blobs: true, retention: true, links: true, reconcileBlobIndex: true, mediaTypes: true,
      referrers: true, replicate: true, replicationOrphans: true, cacheOrphans: true, orphanNamespaces: true,
    },
  });
  const shortOnes = await invocation(['scrub', '-u', '30m', '-p', '1h', '-l', '-M', '-R', '-n']);
  assert.deepEqual(shortOnes.command === 'scrub' && shortOnes.options, {
    ...NO_CHECKS, uploadsOlderThanMs: 30 * 60_000, multipartOlderThanMs: HOUR, links: true, mediaTypes: true, referrers: true, orphanNamespaces: true,
  });
  const none = await invocation(['scrub']);
  assert.deepEqual(none.command === 'scrub' && none.options, NO_CHECKS);
});

test('worker queues: both by default, duplicates dropped in first-seen order; poll interval in ms', async () => {
  assert.deepEqual(await invocation(['worker']), { command: 'worker', configPaths: ['config.toml'], options: { queues: ['cache', 'replication'], pollIntervalMs: 1000 } });
  const chosen = await invocation(['worker', '--queue', 'replication', '--queue', 'cache', '--queue', 'replication', '--poll-interval', '250ms']);
  assert.deepEqual(chosen.command === 'worker' && chosen.options, { queues: ['replication', 'cache'], pollIntervalMs: 250 });
});

test('later-version aliases map onto scrub selections', async () => {
  const replicate = await invocation(['replicate', '-d']);
  assert.deepEqual(replicate.command === 'scrub' && replicate.options, { ...NO_CHECKS, replicate: true, dryRun: true });
  const prune = await invocation(['prune']);
  assert.deepEqual(prune.command === 'scrub' && prune.options, {
    ...NO_CHECKS, retention: true, uploadsOlderThanMs: HOUR, multipartOlderThanMs: HOUR, orphanNamespaces: true, replicationOrphans: true, cacheOrphans: true,
  });
  const prune2 = await invocation(['prune', '-u', '2h', '-d']);
  assert.equal(prune2.command === 'scrub' && prune2.options.multipartOlderThanMs, 2 * HOUR);
  const migrate = await invocation(['migrate']);
  assert.deepEqual(migrate.command === 'scrub' && migrate.options, { ...NO_CHECKS, links: true, mediaTypes: true });
});
