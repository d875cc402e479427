// What `angos scrub` was asked to do (`angos help scrub`), as parsed from its flags.

export interface ScrubOptions {
  readonly dryRun: boolean;
  /** Milliseconds; undefined = upload sessions not checked. */
  readonly uploadsOlderThanMs: number | undefined;
  /** Milliseconds; undefined = S3 multipart uploads not checked. */
  readonly multipartOlderThanMs: number | undefined;
  readonly orphanGrantsOlderThanMs: number | undefined;
  readonly tags: boolean;
  readonly manifests: boolean;
  readonly blobs: boolean;
  readonly retention: boolean;
  readonly links: boolean;
  readonly reconcileBlobIndex: boolean;
  readonly mediaTypes: boolean;
  readonly referrers: boolean;
  readonly replicate: boolean;
  readonly replicationOrphans: boolean;
  readonly cacheOrphans: boolean;
  readonly orphanNamespaces: boolean;
}

/** The flag of each check, as a user would type it, in the order `angos help scrub` lists them. */
const CHECK_FLAGS: ReadonlyArray<readonly [string, (options: ScrubOptions) => boolean]> = [
  ['--uploads', (o) => o.uploadsOlderThanMs !== undefined],
  ['--multipart', (o) => o.multipartOlderThanMs !== undefined],
  ['--tags', (o) => o.tags],
  ['--manifests', (o) => o.manifests],
  ['--blobs', (o) => o.blobs],
  ['--retention', (o) => o.retention],
  ['--links', (o) => o.links],
  ['--reconcile-blob-index', (o) => o.reconcileBlobIndex],
  ['--media-types', (o) => o.mediaTypes],
  ['--referrers', (o) => o.referrers],
  ['--replicate', (o) => o.replicate],
  ['--replication-orphans', (o) => o.replicationOrphans],
  ['--cache-orphans', (o) => o.cacheOrphans],
  ['--orphan-grants', (o) => o.orphanGrantsOlderThanMs !== undefined],
  ['--orphan-namespaces', (o) => o.orphanNamespaces],
];

/** The long flags of the checks selected (`--dry-run` is not a check). */
export function selectedChecks(options: ScrubOptions): string[] {
  return CHECK_FLAGS.filter(([, selected]) => selected(options)).map(([flag]) => flag);
}
