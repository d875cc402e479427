// The command line (README.md, "Command line"): `angos [-c <path>]... <command> [options]`. Parsing only; nothing
// here reads configuration, so help and usage errors work anywhere.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { DurationError, parseDuration } from '../config/duration.ts';
import { DEFAULT_CONFIG_PATH } from '../config/load.ts';
import type { ScrubOptions } from './scrub.ts';
import { QUEUES, type QueueName } from '../jobs/queue.ts';
import type { WorkerOptions } from './worker.ts';

export type Invocation =
  | { readonly command: 'server'; readonly configPaths: readonly string[] }
  | { readonly command: 'scrub'; readonly configPaths: readonly string[]; readonly options: ScrubOptions }
  | { readonly command: 'worker'; readonly configPaths: readonly string[]; readonly options: WorkerOptions }
  | { readonly command: 'argon' };

/** Either what to run, or the exit code after help or a usage error was printed. */
export type ParseResult = { readonly invocation: Invocation } | { readonly exitCode: number };

function duration(text: string): number {
  try {
    return parseDuration(text);
  } catch (error) {
    if (error instanceof DurationError) throw new InvalidArgumentError(error.message);
    throw error;
  }
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function queue(value: string, previous: QueueName[] | undefined): QueueName[] {
  if (!(QUEUES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`unknown queue '${value}'; expected 'cache' or 'replication'`);
  }
  const queues = previous ?? [];
  return queues.includes(value as QueueName) ? queues : [...queues, value as QueueName];
}

interface ScrubFlags {
  dryRun?: boolean;
  uploads?: number;
  multipart?: number;
  orphanGrants?: number;
  tags?: boolean;
  manifests?: boolean;
  blobs?: boolean;
  retention?: boolean;
  links?: boolean;
  reconcileBlobIndex?: boolean;
  mediaTypes?: boolean;
  referrers?: boolean;
  replicate?: boolean;
  replicationOrphans?: boolean;
  cacheOrphans?: boolean;
  orphanNamespaces?: boolean;
}

function scrubOptions(flags: ScrubFlags): ScrubOptions {
  return {
    dryRun: flags.dryRun ?? false,
    uploadsOlderThanMs: flags.uploads,
    multipartOlderThanMs: flags.multipart,
    orphanGrantsOlderThanMs: flags.orphanGrants,
    tags: flags.tags ?? false,
    manifests: flags.manifests ?? false,
    blobs: flags.blobs ?? false,
    retention: flags.retention ?? false,
    links: flags.links ?? false,
    reconcileBlobIndex: flags.reconcileBlobIndex ?? false,
    mediaTypes: flags.mediaTypes ?? false,
    referrers: flags.referrers ?? false,
    replicate: flags.replicate ?? false,
    replicationOrphans: flags.replicationOrphans ?? false,
    cacheOrphans: flags.cacheOrphans ?? false,
    orphanNamespaces: flags.orphanNamespaces ?? false,
  };
}

function addScrubCommand(program: Command, select: (flags: ScrubFlags) => void): void {
  program
    .command('scrub')
    .description('Check storage for inconsistencies and perform maintenance tasks (only the selected checks run)')
    .option('-d, --dry-run', 'preview what would be removed without making changes')
    .option('-u, --uploads <duration>', 'remove broken or partial upload sessions and those older than <duration> (e.g. 1h, 30m, 2d)', duration)
    .option('-p, --multipart <duration>', 'abort orphan S3 multipart uploads older than <duration> (S3 only)', duration)
    .option('-t, --tags', 'check and fix tag references')
    .option('-m, --manifests', 'check for manifest inconsistencies')
    .option('-b, --blobs', 'check for blob inconsistencies, corruption and stale blob-index entries')
    .option('-r, --retention', 'enforce retention policies')
    .option('-l, --links', 'fix link format inconsistencies and phantom referrer back-links')
    .option('--reconcile-blob-index', 'rebuild missing blob-index entries (reads every manifest: expensive)')
    .option('-M, --media-types', 'backfill missing media_type on manifest links')
    .option('-R, --referrers', 'remove orphan referrer links')
    .option('--replicate', 'reconcile every replicated namespace against its downstreams')
    .option('--replication-orphans', 'delete replication jobs whose downstream or repository is no longer configured')
    .option('--cache-orphans', 'delete cache jobs whose repository is no longer configured for pull-through')
    .option('--orphan-grants <duration>', 'revoke unreferenced blob-ownership grants older than <duration>', duration)
    .option('-n, --orphan-namespaces', 'clear namespaces not owned by any configured repository (destructive)')
    .action((flags: ScrubFlags) => select(flags));
}

/** Shorthands for common scrub selections, as later versions of Angos accept them. */
function addScrubAliases(program: Command, select: (flags: ScrubFlags) => void): void {
  program
    .command('replicate')
    .description('Same as: scrub --replicate')
    .option('-d, --dry-run', 'enqueue nothing, only log')
    .action((flags: { dryRun?: boolean }) => select({ replicate: true, dryRun: flags.dryRun }));
  program
    .command('prune')
    .description('Same as: scrub --retention --uploads <duration> --multipart <duration> --orphan-namespaces --replication-orphans --cache-orphans')
    .option('-d, --dry-run', 'preview without changing anything')
    .option('-u, --uploads <duration>', 'age for uploads and multipart uploads', duration, 3_600_000)
    .action((flags: { dryRun?: boolean; uploads: number }) =>
      select({
        retention: true,
        uploads: flags.uploads,
        multipart: flags.uploads,
        orphanNamespaces: true,
        replicationOrphans: true,
        cacheOrphans: true,
        dryRun: flags.dryRun,
      }),
    );
  program
    .command('migrate')
    .description('Same as: scrub --links --media-types')
    .option('-d, --dry-run', 'preview without changing anything')
    .action((flags: { dryRun?: boolean }) => select({ links: true, mediaTypes: true, dryRun: flags.dryRun }));
}

const USAGE = '[-c <path>]... <command> [options]';

function buildProgram(choose: (invocation: Invocation) => void): Command {
  const program = new Command('angos');
  const configPaths = () => {
    const paths = program.opts<{ config?: string[] }>().config;
    return paths === undefined || paths.length === 0 ? [DEFAULT_CONFIG_PATH] : paths;
  };
  program
    .description('Angos: an OCI-compliant, Docker-compatible container registry')
    .usage(USAGE)
    // Global options only before the command word: `angos server -c x.toml` is a usage error.
    .enablePositionalOptions()
    .exitOverride()
    .showHelpAfterError(`Usage: angos ${USAGE}\nRun \`angos --help\` for the commands.`)
    .option('-c, --config <path>', `configuration file (default: ${DEFAULT_CONFIG_PATH}); repeatable, later files override earlier ones`, collect)
    .addHelpText(
      'after',
      '\nEnvironment:\n  RUST_LOG   log filter, e.g. info, debug, warn,angos::registry=debug (default: info)\n\nRun `angos help <command>` for the options of a command.',
    );

  program
    .command('server')
    .description('Run the registry HTTP server')
    .action(() => choose({ command: 'server', configPaths: configPaths() }));

  const selectScrub = (flags: ScrubFlags) => choose({ command: 'scrub', configPaths: configPaths(), options: scrubOptions(flags) });
  addScrubCommand(program, selectScrub);

  program
    .command('worker')
    .description('Process durable background jobs from the job queue (requires [global.job_queue])')
    .option('--queue <name>', "queue to drain: 'cache' or 'replication'; repeatable (default: both)", queue)
    .option('--poll-interval <duration>', 'minimum idle sleep between claim attempts (default: 1s)', duration)
    .action((flags: { queue?: QueueName[]; pollInterval?: number }) =>
      choose({
        command: 'worker',
        configPaths: configPaths(),
        options: { queues: flags.queue ?? [...QUEUES], pollIntervalMs: flags.pollInterval ?? 1000 },
      }),
    );

  program
    .command('argon')
    .description('Generate an Argon2 password hash for [auth.identity.<name>].password (reads no configuration)')
    .action(() => choose({ command: 'argon' }));

  addScrubAliases(program, selectScrub);
  // Usage errors end with the usage line of the command they concern, as the original's did.
  for (const command of program.commands) {
    command.showHelpAfterError(`Usage: angos ${command.name()} ${command.usage()}\nRun \`angos help ${command.name()}\` for its options.`);
  }
  return program;
}

/** Parses `argv` (without the node and script paths); help and usage errors are printed here. */
export async function parseCommandLine(argv: readonly string[]): Promise<ParseResult> {
  let invocation: Invocation | undefined;
  const program = buildProgram((chosen) => {
    invocation = chosen;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return { exitCode: error.exitCode === 0 ? 0 : 1 };
    throw error;
  }
  return invocation === undefined ? { exitCode: 1 } : { invocation };
}
