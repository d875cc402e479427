// The scrub run: which checks run, in which order, and the exit code. Only `--multipart` exists so far; any other
// check flag is refused before anything is touched, so no run half-does what it was asked.
import type { Config } from '../config/types.ts';
import { logger } from '../observability/logging.ts';
import { openS3Store } from '../storage/open-store.ts';
import { scrubMultipart } from './multipart-scrub.ts';
import { selectedChecks, type ScrubOptions } from './scrub-options.ts';

const log = logger('angos::maintenance::scrub');

/** Runs the selected checks; resolves with the exit code. `fail` reports a start-up failure (exit 1). */
export async function runScrubChecks(config: Config, options: ScrubOptions, fail: (reason: string) => number): Promise<number> {
  const selected = selectedChecks(options);
  const missing = selected.filter((flag) => flag !== '--multipart');
  if (missing.length > 0) {
    process.stderr.write(`scrub is not implemented yet for ${missing.join(', ')} (only --multipart runs so far); nothing was checked\n`);
    return 1;
  }
  if (selected.length === 0) {
    log.warn('no checks selected; nothing to do (see `angos help scrub`)');
    return 0;
  }
  const olderThanMs = options.multipartOlderThanMs!;
  if (config.blobStore.kind !== 's3') {
    log.warn('--multipart is S3-only: the blob store is on the filesystem, nothing to do');
    return 0;
  }
  let store;
  try {
    store = await openS3Store(config.blobStore.settings, 'blob_store.s3');
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  try {
    await scrubMultipart(store, { olderThanMs, dryRun: options.dryRun });
    return 0;
  } catch (err) {
    log.error('scrub --multipart could not run: listing multipart uploads failed', { error: String(err) });
    return 1;
  } finally {
    store.destroy();
  }
}
