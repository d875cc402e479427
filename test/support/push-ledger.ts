import { header } from './expect.ts';
import { request, send, type HttpResponse } from './http.ts';
import type { Content, Manifest } from './oci.ts';
import { inParallel, patchChunk } from './registry.ts';
import { Tally } from './tally.ts';
import { committedSize, completeUpload } from './upload-session.ts';

/**
 * What the crash test counts; every one must stay 0. `lostWrites`: acknowledged data (a 201 blob or manifest, a
 * 202 chunk) the server no longer has. `corruptReads`: bytes that differ from what was pushed, or a session claiming
 * more bytes than were sent. `stuckSessions`: sessions that neither resume to a correct 201 nor answer 404.
 * `unacknowledgedVisible`: blobs or tags readable although their upload never completed and its last request was
 * never fully sent. `serverErrors`: 5xx, or a status the step does not expect. `droppedConnections`: connections cut
 * while the server was not being killed. `hungRequests`: no answer within the hang guard.
 */
export const CRASH_COUNTS = [
  'lostWrites',
  'corruptReads',
  'stuckSessions',
  'unacknowledgedVisible',
  'serverErrors',
  'droppedConnections',
  'hungRequests',
] as const;
export type CrashCount = (typeof CRASH_COUNTS)[number];

/** A session a client walked away from after a crash: it must still resume, or answer 404. */
export interface OpenSession {
  location: string;
  /** Bytes the server acknowledged (202) before the crash. */
  acknowledged: number;
  /** Bytes sent in all, acknowledged or not: the most the server may hold. */
  sent: number;
}

/** An upload or manifest push given up after a crash, before any 201. */
export interface Abandoned<T> {
  item: T;
  /** The request that would have completed it was fully sent: the server may have committed it, then died. */
  completionSent: boolean;
  session?: OpenSession;
}

/** Everything the clients were told, and what they gave up on: the truth the restarted server is checked against. */
export class PushLedger {
  /** The namespace every client pushes to. */
  readonly ns: string;
  readonly tally = new Tally(CRASH_COUNTS);
  /** Blobs answered 201, or found complete after a cut completion: digest → bytes. */
  readonly blobs = new Map<string, Buffer>();
  /** Manifests answered 201, by tag. */
  readonly tags = new Map<string, Manifest>();
  readonly abandonedBlobs: Array<Abandoned<Content>> = [];
  readonly abandonedTags: Array<Abandoned<{ tag: string; manifest: Manifest }>> = [];
  readonly stats = { requests: 0, inFlight: 0, cut: 0, resumedSessions: 0, restartedUploads: 0, resumedAtEnd: 0, completedUnacknowledged: 0 };
  #acknowledged = 0;
  #waiters: Array<{ count: number; done: () => void }> = [];

  constructor(ns: string) {
    this.ns = ns;
  }

  flag(kind: CrashCount, what: string): void {
    this.tally.flag(kind, what);
  }

  acknowledgeBlob(blob: Content): void {
    this.blobs.set(blob.digest, blob.bytes);
    this.#acknowledge();
  }

  acknowledgeTag(tag: string, manifest: Manifest): void {
    this.tags.set(tag, manifest);
    this.#acknowledge();
  }

  /** Resolves once `count` blobs and manifests were acknowledged in all (the crash schedule). */
  whenAcknowledged(count: number): Promise<void> {
    if (this.#acknowledged >= count) return Promise.resolve();
    return new Promise((done) => this.#waiters.push({ count, done }));
  }

  #acknowledge(): void {
    this.#acknowledged++;
    for (const waiter of this.#waiters.filter((w) => w.count <= this.#acknowledged)) waiter.done();
    this.#waiters = this.#waiters.filter((w) => w.count > this.#acknowledged);
  }

  /**
   * Checks the restarted server against the ledger: every acknowledged tag, manifest and blob reads back byte for
   * byte; nothing given up is readable unless its completion was fully sent; every session left open resumes to a
   * correct 201 or answers 404 (then it must not hold acknowledged chunks).
   */
  async verify(url: string): Promise<void> {
    const ns = this.ns;
    await inParallel([...this.tags], 8, async ([tag, manifest]) => {
      for (const reference of [tag, manifest.digest]) this.#expectBytes(`manifest ${tag} (${reference})`, await request(url, `/v2/${ns}/manifests/${reference}`), manifest.bytes);
      const json = manifest.json as { config: { digest: string }; layers: Array<{ digest: string }> };
      for (const { digest } of [json.config, ...json.layers]) {
        const bytes = this.blobs.get(digest);
        if (bytes === undefined) this.flag('lostWrites', `manifest ${tag} references ${digest}, never acknowledged`);
        else this.#expectBytes(`blob ${digest} of ${tag}`, await request(url, `/v2/${ns}/blobs/${digest}`), bytes);
      }
    });
    await inParallel([...this.blobs], 8, async ([digest, bytes]) => this.#expectBytes(`blob ${digest}`, await request(url, `/v2/${ns}/blobs/${digest}`), bytes));

    await inParallel(this.abandonedBlobs.filter(({ item }) => !this.blobs.has(item.digest)), 8, async ({ item, completionSent }) => {
      this.#expectAbsent(`abandoned blob ${item.digest}`, await request(url, `/v2/${ns}/blobs/${item.digest}`), item.bytes, completionSent);
    });
    await inParallel(this.abandonedTags.filter(({ item }) => !this.tags.has(item.tag)), 8, async ({ item, completionSent }) => {
      this.#expectAbsent(`abandoned tag ${item.tag}`, await request(url, `/v2/${ns}/manifests/${item.tag}`), item.manifest.bytes, completionSent);
    });
    // After the visibility checks: completing these sessions makes their blobs readable.
    await inParallel(this.abandonedBlobs.filter(({ session }) => session !== undefined), 8, ({ item, session }) => this.#resumeAtEnd(url, item, session!));
  }

  #expectBytes(what: string, response: HttpResponse, bytes: Buffer): void {
    if (response.status === 404) this.flag('lostWrites', `${what}: 404`);
    else if (response.status !== 200) this.flag('serverErrors', `${what}: ${response.status} ${response.body.toString().slice(0, 200)}`);
    else if (!response.body.equals(bytes)) this.flag('corruptReads', `${what}: ${response.body.length} bytes differ from the ${bytes.length} pushed`);
  }

  #expectAbsent(what: string, response: HttpResponse, bytes: Buffer, completionSent: boolean): void {
    if (response.status === 404) return;
    if (response.status !== 200) this.flag('serverErrors', `${what}: ${response.status}`);
    else if (!response.body.equals(bytes)) this.flag('corruptReads', `${what}: readable with other bytes`);
    else if (!completionSent) this.flag('unacknowledgedVisible', `${what}: readable though its upload never finished sending`);
    else this.stats.completedUnacknowledged++;
  }

  async #resumeAtEnd(url: string, blob: Content, session: OpenSession): Promise<void> {
    const what = `session ${session.location} (acknowledged ${session.acknowledged}, sent ${session.sent})`;
    const status = await send(url, 'GET', session.location);
    if (status.status === 404) {
      if (session.acknowledged > 0) this.flag('lostWrites', `${what}: 404, its acknowledged chunks are gone`);
      return;
    }
    if (status.status !== 204) return this.flag('stuckSessions', `${what}: GET answered ${status.status}`);
    const committed = committedSize(status);
    if (committed < session.acknowledged) this.flag('lostWrites', `${what}: resumes at ${committed}`);
    if (committed > session.sent) return this.flag('corruptReads', `${what}: claims ${committed} bytes`);
    let location = header(status, 'location') ?? session.location;
    if (committed < blob.size) {
      const patched = await patchChunk(url, location, blob.bytes.subarray(committed), committed);
      if (patched.status !== 202) return this.flag('stuckSessions', `${what}: PATCH from ${committed} answered ${patched.status}`);
      location = header(patched, 'location') ?? location;
    }
    const done = await completeUpload(url, location, blob.digest);
    if (done.status !== 201) return this.flag('stuckSessions', `${what}: PUT answered ${done.status} ${done.body.toString().slice(0, 200)}`);
    this.#expectBytes(`${what} once completed`, await request(url, `/v2/${this.ns}/blobs/${blob.digest}`), blob.bytes);
    this.stats.resumedAtEnd++;
  }
}
