import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { sha256Digest } from '../support/digests.ts';
import {
  assertStatus,
  committedSize,
  completeUpload,
  locationUrl,
  patchChunk,
  send,
  startUpload,
} from '../support/registry-http.ts';
import { startServer, type RunningServer } from '../support/server.ts';

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

  /** Streams `body[from..]` in chunks with backpressure until the root holds `SEEN_ON_DISK` more bytes or `until` is sent. */
  async streamUntilStored(body: Buffer, rootDir: string, until: number): Promise<void> {
    const baseline = await storedBytes(rootDir);
    while (this.sent < until && this.response === undefined) {
      const chunk = body.subarray(this.sent, Math.min(this.sent + STREAM_CHUNK, until));
      this.sent += chunk.length;
      if (!this.request.write(chunk)) await Promise.race([once(this.request, 'drain'), once(this.request, 'close')]);
      if ((await storedBytes(rootDir)) - baseline >= SEEN_ON_DISK) return;
    }
  }

  assertStillReading(): void {
    assert.equal(this.response?.statusCode, undefined, `${this.description} was answered before the crash`);
  }
}

/** Opens a session, commits ACKNOWLEDGED bytes, then SIGKILLs the server in the middle of a chunked PATCH. */
async function crashMidPatch(t: TestContext, blob: Buffer): Promise<{ server: RunningServer; session: string; sent: number }> {
  const crashable = await CrashableServer.start(t);
  const { rootDir, server } = crashable;
  let session = await startUpload(server.url, NAME);
  for (let start = 0; start < ACKNOWLEDGED; start += MiB) {
    const response = await patchChunk(session, blob.subarray(start, start + MiB), start);
    assertStatus(response, 202);
    session = locationUrl(server.url, response);
  }
  // Chunked, without Content-Range, as docker streams a layer.
  const patch = new UnfinishedRequest(session, 'PATCH', { 'content-type': 'application/octet-stream' });
  await patch.streamUntilStored(blob.subarray(ACKNOWLEDGED), rootDir, STREAM_LIMIT);
  patch.assertStillReading();
  const restarted = await crashable.killAndRestart();
  const { pathname, search } = new URL(session);
  return { server: restarted, session: `${restarted.url}${pathname}${search}`, sent: ACKNOWLEDGED + patch.sent };
}

async function assertBlobUnknown(server: RunningServer, digest: string): Promise<void> {
  assertStatus(await send('HEAD', `${server.url}/v2/${NAME}/blobs/${digest}`), 404);
  assertStatus(await send('GET', `${server.url}/v2/${NAME}/blobs/${digest}`), 404, 'BLOB_UNKNOWN');
}

/** What the restarted server says is committed: at least what was acknowledged, at most what was sent. */
async function committedAfterCrash(session: string, sent: number): Promise<number> {
  const status = await send('GET', session);
  assertStatus(status, 204);
  const committed = committedSize(status);
  assert.ok(committed >= ACKNOWLEDGED && committed <= sent, `committed ${committed} outside [${ACKNOWLEDGED}, ${sent}]: ${status.describe}`);
  return committed;
}

test('a session whose PATCH died with the server resumes from the committed offset', async (t) => {
  const blob = randomBytes(ACKNOWLEDGED + STREAM_LIMIT + MiB);
  const { server, session, sent } = await crashMidPatch(t, blob);
  t.diagnostic(`sent ${sent} bytes before SIGKILL`);

  await assertBlobUnknown(server, sha256Digest(blob.subarray(0, sent)));
  await assertBlobUnknown(server, sha256Digest(blob.subarray(0, ACKNOWLEDGED)));
  const committed = await committedAfterCrash(session, sent);

  const end = sent + MiB;
  const resumed = await patchChunk(session, blob.subarray(committed, end), committed);
  assertStatus(resumed, 202);
  assert.equal(committedSize(resumed), end, resumed.describe);
  const digest = sha256Digest(blob.subarray(0, end));
  const done = await completeUpload(locationUrl(server.url, resumed), digest);
  assertStatus(done, 201);
  assert.equal(done.headers.get('docker-content-digest'), digest, done.describe);

  const read = await send('GET', `${server.url}/v2/${NAME}/blobs/${digest}`);
  assertStatus(read, 200);
  assert.equal(read.body.length, end);
  assert.equal(sha256Digest(read.body), digest, 'the completed blob does not hold the uploaded bytes');
});

test('a session whose PATCH died with the server can be cancelled after restart', async (t) => {
  const blob = randomBytes(ACKNOWLEDGED + STREAM_LIMIT);
  const { server, session, sent } = await crashMidPatch(t, blob);
  const committed = await committedAfterCrash(session, sent);

  assertStatus(await send('DELETE', session), 204);
  assertStatus(await send('GET', session), 404, 'BLOB_UPLOAD_UNKNOWN');
  assertStatus(await patchChunk(session, blob.subarray(committed, committed + MiB), committed), 404, 'BLOB_UPLOAD_UNKNOWN');
  await assertBlobUnknown(server, sha256Digest(blob.subarray(0, sent)));
});

test('monolithic uploads killed mid-body leave no blob', async (t) => {
  const crashable = await CrashableServer.start(t);
  const { rootDir, server } = crashable;
  const size = 16 * MiB;
  // Both ways of sending a blob in one request: PUT closing a fresh session, and the single-request POST.
  const viaPut = randomBytes(size);
  const viaPost = randomBytes(size);
  const putUrl = new URL(await startUpload(server.url, NAME));
  putUrl.searchParams.set('digest', sha256Digest(viaPut));
  const postUrl = `${server.url}/v2/${NAME}/blobs/uploads/?digest=${sha256Digest(viaPost)}`;
  const headers = { 'content-type': 'application/octet-stream', 'content-length': String(size) };

  const put = new UnfinishedRequest(putUrl.toString(), 'PUT', headers);
  await put.streamUntilStored(viaPut, rootDir, size - MiB);
  const post = new UnfinishedRequest(postUrl, 'POST', headers);
  await post.streamUntilStored(viaPost, rootDir, size - MiB);
  put.assertStillReading();
  post.assertStillReading();
  t.diagnostic(`sent ${put.sent} bytes by PUT and ${post.sent} by POST before SIGKILL`);

  const restarted = await crashable.killAndRestart();
  await assertBlobUnknown(restarted, sha256Digest(viaPut));
  await assertBlobUnknown(restarted, sha256Digest(viaPost));
});
