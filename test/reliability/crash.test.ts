// Crash consistency: `kill -9` while clients push, restart on the same storage, and nothing acknowledged is lost,
// nothing unacknowledged half-appears, every open session resumes. What makes it hold is in docs/storage.md: files
// are written to a temporary name and renamed, a push writes its keys in waves so a crash between waves only
// over-approximates what is reachable ("Why several servers can share one directory"), upload sessions live
// entirely in storage, and on S3 a request commits by writing the next `staged/<offset>` record ("S3 uploads").
// Each describe sets its storage itself, so one run covers the filesystem and S3 (a bucket of the run's Ceph RADOS
// Gateway).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { registryToml } from '../support/config.ts';
import { CrashableServer } from '../support/crashable-server.ts';
import { CrashPusher } from '../support/crash-pusher.ts';
import { expectBody, expectError, expectStatus, header } from '../support/expect.ts';
import { send } from '../support/http.ts';
import { sha256 } from '../support/oci.ts';
import { PushLedger } from '../support/push-ledger.ts';
import { requestOutcome } from '../support/request-outcome.ts';
import type { S3FaultProxy } from '../support/s3-fault-proxy.ts';
import { getBlob, headBlob, patchChunk, startUpload } from '../support/registry.ts';
import type { RunningServer } from '../support/server.ts';
import { SeededRandom } from '../support/seeded-random.ts';
import { BACKENDS, INLINE_BODIES, openBackend, type BackendName, type StorageBackend } from '../support/storage-backends.ts';
import { UnfinishedRequest } from '../support/unfinished-request.ts';
import { committedSize, completeUpload } from '../support/upload-session.ts';

const MiB = 1024 * 1024;
const NAME = 'crash/app';
const SEED = 'reliability/crash';
/** Half the clients upload in chunks, half in one request; each pushes IMAGES images (config, layer, manifest). */
const CLIENTS = 20;
/** S3 (the Ceph RADOS Gateway on this machine) takes several times longer per request than the filesystem. */
const IMAGES: Record<BackendName, number> = { filesystem: 3, s3: 2 };
/** The server is killed when these fractions of all blobs and manifests have been acknowledged. */
const KILL_AT = [0.15, 0.35, 0.55, 0.75];
/** Acknowledged before a crash: three PATCHes of 1 MiB that answered 202. */
const ACKNOWLEDGED = 3 * MiB;
/** Upper bound of what an interrupted request sends; it never sends all of it. */
const STREAM_LIMIT = 24 * MiB;

const SERVER_TOML = registryToml({ global: INLINE_BODIES });

/** A crashable server on `place` of the backend (a root directory, or a key prefix of the bucket). */
function crashableOn(backend: StorageBackend, place: string): Promise<CrashableServer> {
  return CrashableServer.start({ rootDir: backend.rootDir(place), storageToml: backend.storageToml(place), extraToml: SERVER_TOML });
}

/** A session that held ACKNOWLEDGED bytes when the server was SIGKILLed in the middle of its next, chunked PATCH. */
interface CrashedSession {
  blob: Buffer;
  /** The session path (`Location`), valid on the restarted server. */
  location: string;
  /** Bytes sent in all, acknowledged or not. */
  sent: number;
}

/** Opens a session, commits ACKNOWLEDGED bytes, then leaves a chunked PATCH unfinished once its bytes reach storage. */
async function patchUntilCrash(server: RunningServer, storedBytes: () => Promise<number>, blob: Buffer): Promise<CrashedSession> {
  let { location } = await startUpload(server.url, NAME);
  for (let start = 0; start < ACKNOWLEDGED; start += MiB) {
    const response = await patchChunk(server.url, location, blob.subarray(start, start + MiB), start);
    expectStatus(response, 202);
    location = header(response, 'location') ?? assert.fail('PATCH 202 without Location');
  }
  // Chunked, without Content-Range, as docker streams a layer.
  const patch = new UnfinishedRequest(`${server.url}${location}`, 'PATCH', { 'content-type': 'application/octet-stream' });
  await patch.streamUntilStored(blob.subarray(ACKNOWLEDGED), storedBytes, STREAM_LIMIT);
  patch.expectStillReading();
  return { blob, location, sent: ACKNOWLEDGED + patch.sent };
}

async function expectBlobUnknown(server: RunningServer, digest: string): Promise<void> {
  expectError(await headBlob(server.url, NAME, digest), 404, 'BLOB_UNKNOWN', { head: true });
  expectError(await getBlob(server.url, NAME, digest), 404, 'BLOB_UNKNOWN');
}

/** What the restarted server says is committed: at least what was acknowledged, at most what was sent. */
async function committedAfterCrash(server: RunningServer, { location, sent }: CrashedSession): Promise<number> {
  const status = await send(server.url, 'GET', location);
  expectStatus(status, 204);
  const committed = committedSize(status);
  assert.ok(committed >= ACKNOWLEDGED && committed <= sent, `committed ${committed} outside [${ACKNOWLEDGED}, ${sent}]`);
  return committed;
}

/** Server-side faults the restarted servers logged (an access line at error level is a 5xx). */
function loggedErrors(server: RunningServer): string[] {
  return server.logs.filter((entry) => entry.level === 'ERROR').map((entry) => JSON.stringify(entry).slice(0, 400));
}

/** A session whose second PATCH was cut between committing its bytes and saving its state (S3 only). */
interface StateWindowSession {
  blob: Buffer;
  location: string;
}

/**
 * On S3 a session's running hash travels with it, since multipart parts cannot be read back (docs/configuration.md,
 * "[blob_store.s3]"): a PATCH commits its bytes by writing `staged/<offset>` (docs/storage.md, "S3 uploads"), then
 * saves the hash state in `session.json`. This opens the window between the two on purpose: after one acknowledged
 * PATCH, the fault proxy between the server and the gateway (test/support/s3-fault-proxy.ts, a fault mock) never
 * forwards the second PATCH's state write, and the server is SIGKILLed as that request arrives: a server that died
 * just before sending it.
 */
async function patchIntoStateWindow(crashable: CrashableServer, faults: S3FaultProxy): Promise<StateWindowSession> {
  const { url } = crashable.server;
  const blob = randomBytes(3 * MiB);
  const session = await startUpload(url, NAME);
  const first = await patchChunk(url, session.location, blob.subarray(0, MiB), 0);
  expectStatus(first, 202);
  const location = header(first, 'location') ?? session.location;
  let killed = false;
  const stopObserving = faults.observePuts((key) => {
    if (killed || !key.endsWith(`/_uploads/${session.id}/session.json`)) return undefined;
    killed = true;
    crashable.server.process.kill('SIGKILL');
    return 'refuse';
  });
  try {
    const second = await requestOutcome(url, location, {
      method: 'PATCH',
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${MiB}-${2 * MiB - 1}` },
      body: blob.subarray(MiB, 2 * MiB),
    });
    assert.equal(second.kind, 'cut', 'the second PATCH dies with the server');
  } finally {
    stopObserving();
  }
  assert.ok(killed, 'the second PATCH reached its session state write');
  return { blob, location };
}

// The backends run side by side (each on its own servers and storage): most of the time is spent waiting for restarts.
describe('SIGKILL', { concurrency: true }, () => {
  for (const backendName of BACKENDS) {
    describe(`on ${backendName} storage`, { concurrency: 1 }, () => {
      let backend: StorageBackend;
      before(async () => {
        backend = await openBackend(backendName, { faultProxy: true });
      });
      after(async () => {
        await backend?.close();
      });

      // One SIGKILL cuts four requests at once: two chunked PATCHes of sessions holding acknowledged bytes, a PUT
      // closing a fresh session with its whole body, and a single-request POST, each killed once its bytes reach storage;
      // on S3 the kill lands inside a fifth request, between a PATCH's commit and its session state write.
      describe('requests cut mid-body by one SIGKILL', () => {
        const place = 'mid-body';
        let crashable: CrashableServer;
        let server: RunningServer;
        let resumable: CrashedSession;
        let cancellable: CrashedSession;
        let stateWindow: StateWindowSession | undefined;
        const monolithic = { viaPut: randomBytes(16 * MiB), viaPost: randomBytes(16 * MiB), putSent: 0, postSent: 0 };

        before(async () => {
          crashable = await crashableOn(backend, place);
          const { url } = crashable.server;
          const storedBytes = () => backend.storedBytes(place);
          resumable = await patchUntilCrash(crashable.server, storedBytes, randomBytes(ACKNOWLEDGED + STREAM_LIMIT + MiB));
          cancellable = await patchUntilCrash(crashable.server, storedBytes, randomBytes(ACKNOWLEDGED + STREAM_LIMIT));

          // Both ways of sending a blob in one request: PUT closing a fresh session, and the single-request POST. On S3
          // a body of known length goes to the gateway as one streamed UploadPart, which S3 shows only once complete:
          // these two are cut at their bound, 1 MiB short of their end, with the part still being received.
          const { viaPut, viaPost } = monolithic;
          const { location } = await startUpload(url, NAME);
          const headers = { 'content-type': 'application/octet-stream', 'content-length': String(viaPut.length) };
          const put = new UnfinishedRequest(`${url}${location}?digest=${sha256(viaPut)}`, 'PUT', headers);
          await put.streamUntilStored(viaPut, storedBytes, viaPut.length - MiB);
          const post = new UnfinishedRequest(`${url}/v2/${NAME}/blobs/uploads/?digest=${sha256(viaPost)}`, 'POST', headers);
          await post.streamUntilStored(viaPost, storedBytes, viaPost.length - MiB);
          put.expectStillReading();
          post.expectStillReading();
          monolithic.putSent = put.sent;
          monolithic.postSent = post.sent;
          if (backendName === 's3') stateWindow = await patchIntoStateWindow(crashable, backend.faults!);
          server = await crashable.killAndRestart();
        });
        after(async () => {
          await crashable?.stop();
        });

        test('a session whose PATCH died with the server resumes from the committed offset', async (t) => {
          const { blob, location, sent } = resumable;
          await expectBlobUnknown(server, sha256(blob.subarray(0, sent)));
          await expectBlobUnknown(server, sha256(blob.subarray(0, ACKNOWLEDGED)));
          const committed = await committedAfterCrash(server, resumable);
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

        test('a session whose PATCH died with the server can be cancelled after restart', async () => {
          const { blob, location, sent } = cancellable;
          const committed = await committedAfterCrash(server, cancellable);
          expectStatus(await send(server.url, 'DELETE', location), 204);
          expectError(await send(server.url, 'GET', location), 404, 'BLOB_UPLOAD_UNKNOWN');
          const late = await patchChunk(server.url, location, blob.subarray(committed, committed + MiB), committed);
          expectError(late, 404, 'BLOB_UPLOAD_UNKNOWN');
          await expectBlobUnknown(server, sha256(blob.subarray(0, sent)));
        });

        test('monolithic uploads killed mid-body leave no blob', async (t) => {
          t.diagnostic(`sent ${monolithic.putSent} bytes by PUT and ${monolithic.postSent} by POST before SIGKILL`);
          await expectBlobUnknown(server, sha256(monolithic.viaPut));
          await expectBlobUnknown(server, sha256(monolithic.viaPost));
        });

        if (backendName === 's3') {
          test('a PATCH killed after committing its bytes, before saving the session state: the session still resumes', async (t) => {
            const { blob, location } = stateWindow!;
            const status = await send(server.url, 'GET', location);
            expectStatus(status, 204);
            const committed = committedSize(status);
            t.diagnostic(`the restarted server reports ${committed} bytes (${MiB} acknowledged, ${2 * MiB} sent)`);
            assert.ok(committed === MiB || committed === 2 * MiB, `committed ${committed}`);
            const rest = await patchChunk(server.url, location, blob.subarray(committed), committed);
            expectStatus(rest, 202);
            const done = await completeUpload(server.url, header(rest, 'location') ?? location, sha256(blob));
            expectStatus(done, 201);
            expectBody(await getBlob(server.url, NAME, sha256(blob)), blob);
          });
        }
      });

      test(`${CLIENTS} clients push through ${KILL_AT.length} SIGKILLs: nothing acknowledged is lost, nothing unfinished is visible, every session resumes`, async (t) => {
        const crashable = await crashableOn(backend, 'concurrent');
        t.after(() => crashable.stop());
        const ledger = new PushLedger(NAME);
        const schedule = new SeededRandom(`${SEED}/${backendName}/kills`);
        const pushers = Array.from({ length: CLIENTS }, (_, client) =>
          new CrashPusher({ crashable, ledger, client, mode: client < CLIENTS / 2 ? 'chunked' : 'monolithic', seed: SEED }),
        );
        const errors: string[] = [];
        const collectErrors = (server: RunningServer) => errors.push(...loggedErrors(server));
        const started = Date.now();
        let pushing = true;
        const pushed = Promise.all(pushers.map((pusher) => pusher.run(IMAGES[backendName]))).finally(() => (pushing = false));

        const acknowledgements = CLIENTS * IMAGES[backendName] * 3;
        for (const [index, fraction] of KILL_AT.entries()) {
          await Promise.race([ledger.whenAcknowledged(Math.ceil(acknowledgements * fraction)), pushed]);
          assert.ok(pushing, `the clients finished before kill ${index + 1}`);
          await sleep(schedule.int(0, 40));
          const inFlight = ledger.stats.inFlight;
          collectErrors(crashable.server);
          await crashable.killAndRestart();
          t.diagnostic(`kill ${index + 1} at ${Date.now() - started} ms: ${inFlight} requests in flight`);
        }
        await pushed;
        await ledger.verify(crashable.server.url);
        collectErrors(crashable.server);

        const { stats, tally } = ledger;
        t.diagnostic(
          `${stats.requests} requests, ${stats.cut} cut by the kills; acknowledged ${ledger.blobs.size} blobs and ${ledger.tags.size} tags; ` +
            `${stats.resumedSessions} sessions resumed after a cut, ${stats.restartedUploads} uploads restarted, ` +
            `${ledger.abandonedBlobs.length} uploads and ${ledger.abandonedTags.length} manifest pushes given up ` +
            `(${ledger.abandonedBlobs.filter((a) => a.session).length} sessions left open, ${stats.resumedAtEnd} of them resumed at the end), ` +
            `${stats.completedUnacknowledged} completions found landed though unacknowledged; server faults logged: ${errors.length}`,
        );
        tally.report(t);
        for (const error of errors.slice(0, 10)) t.diagnostic(`logged: ${error}`);
        assert.deepEqual(tally.counts, tally.zeroes);
        assert.deepEqual(errors, [], 'the servers logged no fault');
      });
    });
  }
});
