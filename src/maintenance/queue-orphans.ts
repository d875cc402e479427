// `scrub --replication-orphans` and `--cache-orphans` (docs/operations.md, "scrub"): they delete queued jobs whose
// repository or downstream is no longer configured. This version has no durable job queue yet, so there is nothing
// to delete: each says so and succeeds.
import { logger } from '../observability/logging.ts';
import type { StoreCheck } from './scrub.ts';

const log = logger('angos::maintenance::scrub');

function noQueue(flag: string, queue: string): StoreCheck {
  return {
    flag,
    run: async () => {
      log.info(`${flag}: there is no ${queue} job queue in this version; nothing to delete`);
    },
  };
}

export const replicationOrphansCheck = noQueue('--replication-orphans', 'replication');
export const cacheOrphansCheck = noQueue('--cache-orphans', 'cache');
