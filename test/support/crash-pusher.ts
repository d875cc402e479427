import type { CrashableServer } from './crashable-server.ts';
import { header } from './expect.ts';
import type { HttpResponse } from './http.ts';
import { content, descriptorOf, imageManifest, OCI_CONFIG, OCI_LAYER, type Content, type Manifest } from './oci.ts';
import type { PushLedger } from './push-ledger.ts';
import { requestOutcome, type OutcomeOptions, type RequestOutcome } from './request-outcome.ts';
import { seededBytes } from './seeded-bytes.ts';
import { SeededRandom } from './seeded-random.ts';

/** Chunked: POST a session, PATCH in 2–3 chunks, PUT (sometimes with the last chunk). Monolithic: POST `?digest=`. */
export type PushMode = 'chunked' | 'monolithic';

const KiB = 1024;
/** After a cut, how often a client gives up the item instead of carrying on: enough abandoned uploads to check. */
const GIVE_UP = 0.3;
const MAX_UPLOADS_PER_BLOB = 12;

interface Sent {
  outcome: RequestOutcome;
  generation: number;
}

/** What a session holds after a cut: its committed size, or why the client cannot carry on with it. */
type Resumption = number | 'completed' | 'restart' | 'stuck';

export interface PusherOptions {
  crashable: CrashableServer;
  ledger: PushLedger;
  client: number;
  mode: PushMode;
  seed: string;
}

/**
 * A client pushing images (config, one layer, a manifest by tag) through a server that is SIGKILLed under it, as a
 * careful real client would: a cut request is retried on the restarted server, an upload session resumed from the
 * offset the server reports (`GET` 204 `Range`), and sometimes the item is given up instead, so the test can check
 * that what was never completed stays invisible. Every answer is recorded in the ledger.
 */
export class CrashPusher {
  readonly #crashable: CrashableServer;
  readonly #ledger: PushLedger;
  readonly #client: number;
  readonly #mode: PushMode;
  readonly #label: string;
  readonly #random: SeededRandom;

  constructor(options: PusherOptions) {
    this.#crashable = options.crashable;
    this.#ledger = options.ledger;
    this.#client = options.client;
    this.#mode = options.mode;
    this.#label = `${options.seed}/client-${String(options.client).padStart(2, '0')}`;
    this.#random = new SeededRandom(this.#label);
  }

  async run(images: number): Promise<void> {
    for (let image = 0; image < images; image++) {
      const label = `${this.#label}/image-${image}`;
      const config = await this.#upload((attempt) =>
        content(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, comment: `${label}/${attempt}` })),
      );
      const layer = await this.#upload((attempt) => content(seededBytes(`${label}/${attempt}`, this.#random.int(32 * KiB, 512 * KiB))));
      const manifest = imageManifest({
        config: descriptorOf(config, OCI_CONFIG),
        layers: [descriptorOf(layer, OCI_LAYER)],
        annotations: { pusher: label },
      });
      await this.#pushManifest(`c${String(this.#client).padStart(2, '0')}-i${image}`, manifest);
    }
  }

  get #ns(): string {
    return this.#ledger.ns;
  }

  async #send(path: string, options: OutcomeOptions): Promise<Sent> {
    const { server, generation } = await this.#crashable.ready();
    const { stats } = this.#ledger;
    stats.requests++;
    stats.inFlight++;
    const outcome = await requestOutcome(server.url, path, options);
    stats.inFlight--;
    if (outcome.kind === 'hung') this.#ledger.flag('hungRequests', `${options.method} ${path}`);
    if (outcome.kind === 'cut') {
      stats.cut++;
      if (!this.#crashable.wasKilled(generation)) this.#ledger.flag('droppedConnections', `${options.method} ${path}: ${outcome.error.message}`);
    }
    return { outcome, generation };
  }

  /** After a cut: wait for the server that replaces the killed one. */
  async #next(generation: number): Promise<void> {
    if (this.#crashable.wasKilled(generation)) await this.#crashable.after(generation);
  }

  #unexpected(what: string, response: HttpResponse): void {
    this.#ledger.flag('serverErrors', `${what} answered ${response.status} ${response.body.toString('utf8').slice(0, 300)}`);
  }

  async #upload(make: (attempt: number) => Content): Promise<Content> {
    for (let attempt = 0; attempt < MAX_UPLOADS_PER_BLOB; attempt++) {
      const blob = make(attempt);
      if (this.#mode === 'monolithic' ? await this.#monolithic(blob) : await this.#chunked(blob)) return blob;
    }
    throw new Error(`${this.#label} gave up ${MAX_UPLOADS_PER_BLOB} uploads of one blob in a row`);
  }

  /** POST `?digest=` with the whole body (docs/architecture.md, "A blob upload, end to end"); true once acknowledged. */
  async #monolithic(blob: Content): Promise<boolean> {
    const path = `/v2/${this.#ns}/blobs/uploads/?digest=${blob.digest}`;
    for (;;) {
      const { outcome, generation } = await this.#send(path, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: blob.bytes });
      if (outcome.kind === 'answered') {
        if (outcome.response.status === 201) {
          this.#ledger.acknowledgeBlob(blob);
          return true;
        }
        this.#unexpected(`POST ${path}`, outcome.response);
        this.#ledger.abandonedBlobs.push({ item: blob, completionSent: true });
        return false;
      }
      await this.#next(generation);
      if (this.#random.chance(GIVE_UP)) {
        this.#ledger.abandonedBlobs.push({ item: blob, completionSent: outcome.bodySent });
        return false;
      }
    }
  }

  /** POST a session, PATCH chunks with their offsets, PUT `?digest=`; after a cut, resume where the server says. */
  async #chunked(blob: Content): Promise<boolean> {
    const { cuts, patchEnd } = this.#plan(blob.size);
    let location = await this.#open();
    if (location === undefined) return false;
    let acknowledged = 0;
    /** The offset a GET reported after the last cut, while the session has not moved on since. */
    let resumedAt: number | undefined;
    for (;;) {
      const completing = acknowledged >= patchEnd;
      const end = completing ? blob.size : (cuts.find((cut) => cut > acknowledged) ?? patchEnd);
      const chunk = blob.bytes.subarray(acknowledged, end);
      const request: Promise<Sent> = completing
        ? this.#send(`${location}${location.includes('?') ? '&' : '?'}digest=${blob.digest}`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: chunk })
        : this.#send(location, this.#patch(chunk, acknowledged));
      const { outcome, generation } = await request;
      if (outcome.kind === 'answered') {
        const { response } = outcome;
        if (completing && response.status === 201) {
          this.#ledger.acknowledgeBlob(blob);
          return true;
        }
        if (!completing && response.status === 202) {
          const committed = committedOf(response);
          if (committed !== end) this.#ledger.flag('corruptReads', `PATCH ${location} of [${acknowledged}, ${end}) answered Range for ${committed}`);
          acknowledged = end;
          resumedAt = undefined;
          location = header(response, 'location') ?? location;
          continue;
        }
        if (response.status === 404 && resumedAt !== undefined) {
          // GET said the session holds `resumedAt` bytes; a session that then refuses to continue is stuck.
          this.#ledger.flag('stuckSessions', `${completing ? 'PUT' : 'PATCH'} ${location} after GET 204 at ${resumedAt}: 404 ${response.body.toString('utf8').slice(0, 200)}`);
          this.#ledger.stats.restartedUploads++;
          location = await this.#open();
          if (location === undefined) return false;
          acknowledged = 0;
          resumedAt = undefined;
          continue;
        }
        this.#unexpected(`${completing ? 'PUT' : 'PATCH'} ${location}`, response);
        this.#ledger.abandonedBlobs.push({ item: blob, completionSent: completing });
        return false;
      }
      await this.#next(generation);
      if (!completing && this.#random.chance(GIVE_UP)) {
        this.#ledger.abandonedBlobs.push({ item: blob, completionSent: false, session: { location, acknowledged, sent: end } });
        return false;
      }
      const resumed = await this.#resume(blob, location, acknowledged, end, completing);
      if (resumed === 'completed') return true;
      if (resumed === 'stuck') {
        this.#ledger.abandonedBlobs.push({ item: blob, completionSent: completing });
        return false;
      }
      if (resumed === 'restart') {
        this.#ledger.stats.restartedUploads++;
        location = await this.#open();
        if (location === undefined) return false;
        acknowledged = 0;
        continue;
      }
      this.#ledger.stats.resumedSessions++;
      acknowledged = resumedAt = resumed;
    }
  }

  /** Where the chunks end; the bytes past `patchEnd` go with the PUT. */
  #plan(size: number): { cuts: number[]; patchEnd: number } {
    const inner = new Set<number>();
    for (let i = 1, pieces = this.#random.int(2, 3); i < pieces; i++) inner.add(this.#random.int(2, size - 1));
    const cuts = [...inner].sort((a, b) => a - b).concat(size);
    const lastInPut = cuts.length > 1 && this.#random.chance(0.5);
    return { cuts, patchEnd: lastInPut ? cuts.at(-2)! : size };
  }

  /** Even clients send `Content-Range` and `Content-Length`; odd ones stream chunked without a range, as docker does. */
  #patch(chunk: Buffer, start: number): OutcomeOptions {
    if (this.#client % 2 === 0) {
      return { method: 'PATCH', headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${start + chunk.length - 1}` }, body: chunk };
    }
    const half = Math.ceil(chunk.length / 2);
    return { method: 'PATCH', headers: { 'content-type': 'application/octet-stream' }, chunks: [chunk.subarray(0, half), chunk.subarray(half)] };
  }

  async #open(): Promise<string | undefined> {
    const path = `/v2/${this.#ns}/blobs/uploads/`;
    for (;;) {
      const { outcome, generation } = await this.#send(path, { method: 'POST' });
      if (outcome.kind === 'answered') {
        const location = header(outcome.response, 'location');
        if (outcome.response.status === 202 && location !== undefined) return location;
        this.#unexpected(`POST ${path}`, outcome.response);
        return undefined;
      }
      await this.#next(generation);
    }
  }

  /**
   * What the restarted server holds of a session whose PATCH or PUT was cut: GET answers 204 with at least what was
   * acknowledged and at most what was sent; or 404, legal only if the cut request was the completing PUT (the blob
   * is then readable with its bytes, or the upload starts over).
   */
  async #resume(blob: Content, location: string, acknowledged: number, sent: number, completing: boolean): Promise<Resumption> {
    const what = `session ${location} after a cut ${completing ? 'PUT' : 'PATCH'} (acknowledged ${acknowledged}, sent ${sent})`;
    const status = await this.#answer(location, 'GET');
    if (status.status === 204) {
      const committed = committedOf(status);
      if (committed === undefined) {
        this.#ledger.flag('stuckSessions', `${what}: Range ${header(status, 'range')}`);
        return 'stuck';
      }
      if (committed < acknowledged) this.#ledger.flag('lostWrites', `${what}: resumes at ${committed}`);
      if (committed > sent) {
        this.#ledger.flag('corruptReads', `${what}: claims ${committed} bytes`);
        return 'restart';
      }
      return committed;
    }
    if (status.status !== 404) {
      this.#unexpected(`GET ${location}`, status);
      this.#ledger.flag('stuckSessions', `${what}: GET answered ${status.status}`);
      return 'stuck';
    }
    if (!completing) {
      this.#ledger.flag('lostWrites', `${what}: 404 though no PUT was sent`);
      return 'restart';
    }
    const read = await this.#answer(`/v2/${this.#ns}/blobs/${blob.digest}`, 'GET');
    if (read.status === 404) return 'restart';
    if (read.status !== 200) {
      this.#unexpected(`GET blob ${blob.digest}`, read);
      return 'stuck';
    }
    if (!read.body.equals(blob.bytes)) {
      this.#ledger.flag('corruptReads', `${what}: blob readable with other bytes`);
      return 'restart';
    }
    // The completion landed before the kill; the client learns it now, as a client retrying the PUT would.
    this.#ledger.stats.completedUnacknowledged++;
    this.#ledger.acknowledgeBlob(blob);
    return 'completed';
  }

  /** A body-less request retried across kills until it is answered. */
  async #answer(path: string, method: string): Promise<HttpResponse> {
    for (;;) {
      const { outcome, generation } = await this.#send(path, { method });
      if (outcome.kind === 'answered') return outcome.response;
      await this.#next(generation);
    }
  }

  async #pushManifest(tag: string, manifest: Manifest): Promise<void> {
    const path = `/v2/${this.#ns}/manifests/${tag}`;
    for (;;) {
      const { outcome, generation } = await this.#send(path, { method: 'PUT', headers: { 'content-type': manifest.mediaType }, body: manifest.bytes });
      if (outcome.kind === 'answered') {
        if (outcome.response.status !== 201) {
          this.#unexpected(`PUT ${path}`, outcome.response);
          this.#ledger.abandonedTags.push({ item: { tag, manifest }, completionSent: true });
        } else if (header(outcome.response, 'docker-content-digest') !== manifest.digest) {
          this.#ledger.flag('corruptReads', `PUT ${path} answered digest ${header(outcome.response, 'docker-content-digest')}, pushed ${manifest.digest}`);
        } else {
          this.#ledger.acknowledgeTag(tag, manifest);
        }
        return;
      }
      await this.#next(generation);
      if (this.#random.chance(GIVE_UP)) {
        this.#ledger.abandonedTags.push({ item: { tag, manifest }, completionSent: outcome.bodySent });
        return;
      }
    }
  }
}

/** The committed size a `Range: 0-<last>` header reports (`0-0` is taken as empty: these chunks never end at byte 1). */
function committedOf(response: HttpResponse): number | undefined {
  const match = /^0-(\d+)$/.exec(header(response, 'range') ?? '');
  if (match === null) return undefined;
  const last = Number(match[1]);
  return last === 0 ? 0 : last + 1;
}
