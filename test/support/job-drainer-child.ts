// A drainer in a process of its own, for crash-takeover tests (src/jobs/crash-takeover.test.ts): it drains the cache
// queue of a filesystem store with one handler, `test.hang`, that prints "started <lock_key>" and never finishes.
// Usage: node job-drainer-child.ts <rootDir> <claimTtlSecs>
import { JobDrainer } from '../../src/jobs/drainer.ts';
import { DEFAULT_JOB_POLICY, type JobHandler } from '../../src/jobs/queue.ts';
import { openFsStore } from '../../src/storage/open-store.ts';

const [rootDir, ttl] = process.argv.slice(2);
const store = openFsStore(rootDir!, false);
const hang: JobHandler = (job) => {
  process.stderr.write(`started ${job.lock_key}\n`);
  return new Promise(() => {});
};
new JobDrainer({
  queue: 'cache',
  concurrency: 1,
  pollMs: 50,
  claimMode: 'atomic',
  policy: () => ({ ...DEFAULT_JOB_POLICY, claimTtlSecs: Number(ttl) }),
  parts: () => ({ store, handlers: new Map([['test.hang', hang]]) }),
}).start();
