import { ByteBudget } from './byte-budget.ts';
import { BufferPool } from './buffer-pool.ts';
import { youngCollections } from './young-collections.ts';

/**
 * The server's memory policy, in one place (docs/operations.md, "Memory"). Left to its defaults V8 lets the young
 * generation grow to 64 MiB semi-spaces and the old one to several times the live heap (20-25 MiB), so a busy
 * server reached 300-400 MiB; with this policy it stays near 150 MiB.
 *
 * V8's limits can only be given on the command line: `bin/angos.js` (the installed `angos`) and `npm start` pass
 * `SERVER_NODE_FLAGS` and `SERVER_ENVIRONMENT` (`src/runtime/memory-policy.test.ts` keeps them in step), and the
 * server warns at start-up when it runs without them.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=4', '--max-old-space-size=192'] as const;
/** glibc would give each busy thread (libuv pool, V8 helpers) its own malloc arena, ~10 MiB resident in all. */
export const SERVER_ENVIRONMENT = { MALLOC_ARENA_MAX: '2' } as const;

/** Upload bytes consumed between two young-generation collections. */
const COLLECT_EVERY_BYTES = 4 * 1024 * 1024;
/** Download copy buffers kept for the next downloads (16 × 512 KiB = 8 MiB). */
const SPARE_DOWNLOAD_BUFFERS = 16;
/**
 * Manifest bytes being received, parsed and stored at once, process-wide. A manifest is held whole in memory (and
 * parsed, several times its size in heap), so a burst of large pushes waits instead of growing the heap past
 * the old-space limit; ordinary manifests of a few KiB never wait.
 */
const MANIFEST_BYTES = 16 * 1024 * 1024;

export interface MemoryPolicy {
  /** Told of request-body bytes written out and dropped. */
  bodyBytesConsumed(bytes: number): void;
  /** Copy buffers for downloads, reused across them. */
  readonly downloadBuffers: BufferPool;
  /** Bounds the manifest bytes held at once. */
  readonly manifestBytes: ByteBudget;
}

/** The policy of `angos server`. */
export function serverMemoryPolicy(): MemoryPolicy {
  return {
    bodyBytesConsumed: youngCollections(COLLECT_EVERY_BYTES),
    downloadBuffers: new BufferPool(SPARE_DOWNLOAD_BUFFERS),
    manifestBytes: new ByteBudget(MANIFEST_BYTES),
  };
}

/** The V8 flags of the policy this process was started without (`process.execArgv` and `NODE_OPTIONS`). */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)]);
  return SERVER_NODE_FLAGS.filter((flag) => !given.has(flag));
}
