// `angos scrub` (chapter 02 §1.4). Option parsing is complete; the checks themselves come with the
// maintenance work, so for now the command stops after loading the configuration.
import type { Config } from '../config/types.ts';

export interface ScrubOptions {
  readonly dryRun: boolean;
  /** Milliseconds; undefined = upload sessions not checked. */
  readonly uploadsOlderThanMs: number | undefined;
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

export async function runScrub(_config: Config, _configPaths: readonly string[], _options: ScrubOptions): Promise<number> {
  process.stderr.write('scrub is not implemented yet\n');
  return 1;
}
