import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { expectError, expectStatus, header } from '../support/expect.ts';
import { send } from '../support/http.ts';
import { sha256 } from '../support/oci.ts';
import { getBlob, headBlob, patchChunk, startUpload } from '../support/registry.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { committedSize, completeUpload } from '../support/upload-session.ts';

const MiB = 1024 * 1024;
const NAME = 'crash/app';
/** Acknowledged before the crash: three PATCHes of 1 MiB that answered 202. */
const ACKNOWLEDGED = 3 * MiB;
/** Upper bound of what the interrupted request sends; it never sends all of it. */
const STREAM_LIMIT = 24 * MiB;
const STREAM_CHUNK = 256 * 1024;
/** Proof that the server was writing the interrupted body when it died. */
const SEEN_ON_DISK = 1 * MiB;

/** A server on a storage root that outlives it, so a SIGKILLed server can be restarted on the same data. */
class CrashableServer {
  rootDir = '';
  server!: RunningServer;

  static async start(t: TestContext): Promise<CrashableServer> {
    const crashable = new CrashableServer();
    crashable.rootDir = await mkdtemp(join(tmpdir(), 'angos-crash-'));
    t.after(async () => {
      await crashable.server?.stop();
      await rm(crashable.rootDir, { recursive: true, force: true });
    });
    crashable.server = await startServer({ rootDir: crashable.rootDir });
    return crashable;
  }

  async killAndRestart(): Promise<RunningServer> {
    await this.server.kill();
    this.server = await startServer({ rootDir: this.rootDir });
    return this.server;
  }
}

/** Bytes of every file under the root: layout-agnostic evidence that body bytes reached storage. */
async function storedBytes(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0; // removed while walking (a session promoted or cleaned up)
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await storedBytes(path);
    else total += await lstat(path).then((stats) => stats.size, () => 0);
  }
  return total;
}

/** A request whose body is written piece by piece and never finished: the server is killed while it waits for more. */
class UnfinishedRequest {
  readonly request: ClientRequest;
  sent = 0;
  response: IncomingMessage | undefined;
  readonly description: string;

  constructor(url: string, method: string, headers: Record<string, string>) {
    this.description = `${method} ${url}`;
    this.request = request(url, { method, headers });
    // The connection dies with the server: that is the point, not a failure.
    this.request.on('error', () => {});
    this.request.on('response', (response) => {
      this.response = response;
      response.resume();
    });
    this.request.flushHeaders();
  }

  /** Streams `body` in chunks with backpressure until the root holds `SEEN_ON_DISK` more bytes or `until` bytes are sent. */
  async streamUntilStored(body: Buffer, rootDir: string, until: number): Promise<void> {
    const baseline = await storedBytes(rootDir);
    while (this.sent < until && this.response === undefined) {
      const chunk = body.subarray(this.sent, Math.min(this.sent + STREAM_CHUNK, until));
      this.sent += chunk.length;
      if (!this.request.write(chunk)) await this.drained();
      if ((await storedBytes(rootDir)) - baseline >= SEEN_ON_DISK) return;
    }
  }

  private drained(): Promise<void> {
    return new Promise((done) => {
      const finish = (): void => {
        this.request.off('drain', finish).off('close', finish);
        done();
      };
      this.request.on('drain', finish).on('close', finish);
    });
  }

  expectStillReading(): void {
    assert.equal(this.response?.statusCode, undefined, `${this.description} was answered before the crash`);
  }
}

interface CrashedSession {
  server: RunningServer;
  /** The session path (`Location`), valid on the restarted server. */
  location: string;
  /** Bytes sent in all, acknowledged or not. */
  sent: number;
}

/** Opens a session, commits ACKNOWLEDGED bytes, then SIGKILLs the server in the middle of a chunked PATCH. */
async function crashMidPatch(t: TestContext, blob: Buffer): Promise<CrashedSession> {
  const crashable = await CrashableServer.start(t);
  const { rootDir, server } = crashable;
  let { location } = await startUpload(server.url, NAME);
  for (let start = 0; start < ACKNOWLEDGED; start += MiB) {
    const response = await patchChunk(server.url, location, blob.subarray(start, start + MiB), start);
    expectStatus(response, 202);
    location = header(response, 'location') ?? assert.fail('PATCH 202 without Location');
  }
  // Chunked, without Content-Range, as docker streams a layer.
  const patch = new UnfinishedRequest(`${server.url}${location}`, 'PATCH', { 'content-type': 'application/octet-stream' });
  await patch.streamUntilStored(blob.subarray(ACKNOWLEDGED), rootDir, STREAM_LIMIT);
  patch.expectStillReading();
  return { server: await crashable.killAndRestart(), location, sent: ACKNOWLEDGED + patch.sent };
}

async function expectBlobUnknown(server: RunningServer, digest: string): Promise<void> {
  expectError(await headBlob(server.url, NAME, digest), 404, 'BLOB_UNKNOWN', { head: true });
  expectError(await getBlob(server.url, NAME, digest), 404, 'BLOB_UNKNOWN');
}

/** What the restarted server says is committed: at least what was acknowledged, at most what was sent. */
async function committedAfterCrash({ server, location, sent }: CrashedSession): Promise<number> {
  const status = await send(server.url, 'GET', location);
  expectStatus(status, 204);
  const committed = committedSize(status);
  assert.ok(committed >= ACKNOWLEDGED && committed <= sent, `committed ${committed} outside [${ACKNOWLEDGED}, ${sent}]`);
  return committed;
}

test('a session whose PATCH died with the server resumes from the committed offset', async (t) => {
  const blob = randomBytes(ACKNOWLEDGED + STREAM_LIMIT + MiB);
  const crashed = await crashMidPatch(t, blob);
  const { server, location, sent } = crashed;

  await expectBlobUnknown(server, sha256(blob.subarray(0, sent)));
  await expectBlobUnknown(server, sha256(blob.subarray(0, ACKNOWLEDGED)));
  const committed = await committedAfterCrash(crashed);
  t.diagnostic(`sent ${sent} bytes before SIGKILL, ${committed} committed after restart`);

  const end = sent + MiB;
  const resumed = await patchChunk(server.url, location, blob.subarray(committed, end), committed);
  expectStatus(resumed, 202);
  assert.equal(committedSize(resumed), end);
  const digest = sha256(blob.subarray(0, end));
  const done = await completeUpload(server.url, header(resumed, 'location') ?? location, digest);
  expectStatus(done, 201);
  assert.equal(header(done, 'docker-content-digest'), digest);

  const read = await getBlob(server.url, NAME, digest);
  expectStatus(read, 200);
  assert.equal(read.body.length, end);
  assert.equal(sha256(read.body), digest, 'the completed blob does not hold the uploaded bytes');
});

test('a session whose PATCH died with the server can be cancelled after restart', async (t) => {
  const blob = randomBytes(ACKNOWLEDGED + STREAM_LIMIT);
  const crashed = await crashMidPatch(t, blob);
  const { server, location, sent } = crashed;
  const committed = await committedAfterCrash(crashed);

  expectStatus(await send(server.url, 'DELETE', location), 204);
  expectError(await send(server.url, 'GET', location), 404, 'BLOB_UPLOAD_UNKNOWN');
  const late = await patchChunk(server.url, location, blob.subarray(committed, committed + MiB), committed);
  expectError(late, 404, 'BLOB_UPLOAD_UNKNOWN');
  await expectBlobUnknown(server, sha256(blob.subarray(0, sent)));
});

test('monolithic uploads killed mid-body leave no blob', async (t) => {
  const crashable = await CrashableServer.start(t);
  const { rootDir, server } = crashable;
  const size = 16 * MiB;
  // Both ways of sending a blob in one request: PUT closing a fresh session, and the single-request POST.
  const viaPut = randomBytes(size);
  const viaPost = randomBytes(size);
  const { location } = await startUpload(server.url, NAME);
  const headers = { 'content-type': 'application/octet-stream', 'content-length': String(size) };

  const put = new UnfinishedRequest(`${server.url}${location}?digest=${sha256(viaPut)}`, 'PUT', headers);
  await put.streamUntilStored(viaPut, rootDir, size - MiB);
  const post = new UnfinishedRequest(`${server.url}/v2/${NAME}/blobs/uploads/?digest=${sha256(viaPost)}`, 'POST', headers);
  await post.streamUntilStored(viaPost, rootDir, size - MiB);
  put.expectStillReading();
  post.expectStillReading();
  t.diagnostic(`sent ${put.sent} bytes by PUT and ${post.sent} by POST before SIGKILL`);

  const restarted = await crashable.killAndRestart();
  await expectBlobUnknown(restarted, sha256(viaPut));
  await expectBlobUnknown(restarted, sha256(viaPost));
});
