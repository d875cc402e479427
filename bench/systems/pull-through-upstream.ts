import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpClient } from '../client/http-client.ts';
import { startDistribution } from './distribution.ts';
import type { RunningSystem } from './system.ts';

/** What the upstream saw of one `<METHOD> <path>`. */
export interface RequestTally {
  count: number;
  /** Started and not ended yet. */
  inFlight: number;
  /** Epoch ms the last one ended (0: none yet). */
  lastEndedAt: number;
}
export type RequestTallies = Record<string, RequestTally>;

/**
 * The pull-through phase's upstream: a plain CNCF Distribution (no proxy) holding the test content, which the bench
 * pushes to and pulls the direct baseline from (`client`, `url`), and which both caches are configured with. Every
 * request it serves is counted from its own log, with no proxy in the data path (a Node proxy piping the bodies
 * was measured at half a direct pull's rate here, which would have capped the caches' cold pulls): at `debug` it
 * logs a line as each request starts and one as it ends, with the request's id, method and URI
 * (`DistributionOptions.requestLog`). Started once for the phase, in a temp dir of its own, shared by both caches.
 */
export class PullThroughUpstream {
  readonly registry: RunningSystem;
  readonly dir: string;
  /** Keep-alive client to the upstream, for pushes. */
  readonly client: HttpClient;
  readonly #log: RequestLog;

  private constructor(dir: string, registry: RunningSystem, log: RequestLog) {
    this.dir = dir;
    this.registry = registry;
    this.#log = log;
    this.client = new HttpClient(registry.url, 8);
  }

  static async start(): Promise<PullThroughUpstream> {
    const dir = await mkdtemp(join(tmpdir(), 'angos-bench-upstream-'));
    let registry: RunningSystem | undefined;
    try {
      registry = await startDistribution(dir, { requestLog: true });
      return new PullThroughUpstream(dir, registry, await RequestLog.open(join(dir, 'distribution.log')));
    } catch (error) {
      await registry?.stop();
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  get url(): string {
    return this.registry.url;
  }

  get logFile(): string {
    return join(this.dir, 'distribution.log');
  }

  /** Every request the upstream has started so far, per `<METHOD> <path>`, as its log has them now. */
  requests(): Promise<RequestTallies> {
    return this.#log.read();
  }

  async stop(): Promise<void> {
    this.client.close();
    await this.registry.stop();
    await this.#log.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Distribution 2.8's text log lines for the start and the end of a request, and their fields. */
const STARTED = 'msg="authorizing request"';
const ENDED = /msg="response completed(?: with error)?"/;
const FIELD = (name: string): RegExp => new RegExp(`(?:^| )${name.replace(/\./g, '\\.')}=("(?:[^"\\\\]|\\\\.)*"|\\S+)`);
const TIME = FIELD('time');
const ID = FIELD('http.request.id');
const METHOD = FIELD('http.request.method');
const URI = FIELD('http.request.uri');

function field(line: string, pattern: RegExp): string | undefined {
  const raw = pattern.exec(line)?.[1];
  if (raw === undefined) return undefined;
  return raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
}

/** Reads the upstream's log as it grows and keeps the tallies of the requests in it. */
class RequestLog {
  readonly #file: FileHandle;
  #offset = 0;
  #partial = '';
  readonly #tallies: RequestTallies = {};
  /** Requests started and not ended, by request id. */
  readonly #open = new Map<string, RequestTally>();
  readonly #chunk = Buffer.allocUnsafe(1024 * 1024);

  private constructor(file: FileHandle) {
    this.#file = file;
  }

  static async open(path: string): Promise<RequestLog> {
    return new RequestLog(await open(path, 'r'));
  }

  async read(): Promise<RequestTallies> {
    for (;;) {
      const { bytesRead } = await this.#file.read(this.#chunk, 0, this.#chunk.length, this.#offset);
      if (bytesRead === 0) break;
      this.#offset += bytesRead;
      const lines = (this.#partial + this.#chunk.toString('utf8', 0, bytesRead)).split('\n');
      this.#partial = lines.pop()!;
      for (const line of lines) this.#line(line);
    }
    return structuredClone(this.#tallies);
  }

  #line(line: string): void {
    const started = line.includes(STARTED);
    if (!started && !ENDED.test(line)) return;
    const id = field(line, ID);
    if (id === undefined) return;
    if (started) {
      const key = `${field(line, METHOD) ?? '?'} ${field(line, URI) ?? '?'}`;
      const tally = (this.#tallies[key] ??= { count: 0, inFlight: 0, lastEndedAt: 0 });
      tally.count += 1;
      tally.inFlight += 1;
      this.#open.set(id, tally);
      return;
    }
    const tally = this.#open.get(id);
    if (tally === undefined) return;
    this.#open.delete(id);
    tally.inFlight -= 1;
    const time = field(line, TIME);
    tally.lastEndedAt = time === undefined ? Date.now() : Date.parse(time);
  }

  close(): Promise<void> {
    return this.#file.close();
  }
}

/** The tallies of the requests `method` (any, if undefined) whose path ends with `/blobs/<digest>` (any repository), summed. */
export function blobRequests(tallies: RequestTallies, method: string | undefined, digest: string): RequestTally {
  const sum: RequestTally = { count: 0, inFlight: 0, lastEndedAt: 0 };
  const suffix = `/blobs/${digest}`;
  for (const [key, tally] of Object.entries(tallies)) {
    const space = key.indexOf(' ');
    const path = key.slice(space + 1).split('?')[0]!;
    if ((method !== undefined && key.slice(0, space) !== method) || !path.endsWith(suffix)) continue;
    sum.count += tally.count;
    sum.inFlight += tally.inFlight;
    sum.lastEndedAt = Math.max(sum.lastEndedAt, tally.lastEndedAt);
  }
  return sum;
}

/** Requests per method between two snapshots. */
export function requestsBetween(before: RequestTallies, after: RequestTallies): Record<string, number> {
  const byMethod: Record<string, number> = {};
  for (const [key, tally] of Object.entries(after)) {
    const grew = tally.count - (before[key]?.count ?? 0);
    if (grew === 0) continue;
    const method = key.slice(0, key.indexOf(' '));
    byMethod[method] = (byMethod[method] ?? 0) + grew;
  }
  return byMethod;
}
