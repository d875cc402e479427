// Two server processes on one storage root, and two on one bucket, as replicas behind a load balancer. No request
// reads, modifies and writes back a shared object, a tag is a list of events whose newest wins, and a push writes in
// waves (reference keys, revision record, tags), so racing writes through different servers must leave a state some
// order of the requests explains, never a tag without its manifest nor a manifest without its blobs (docs/storage.md,
// "Why several servers can share one directory"; docs/architecture.md, "A manifest push, end to end"). Immutable
// tags are claimed with an atomic create, so of racing first pushes exactly one stands. On S3 the link cache is off
// (`link_cache_ttl = 0`, docs/storage.md, "Link cache (S3 metadata store)"): every read goes to storage, so the two
// servers must agree at once. Each describe sets its storage itself, so one run covers the filesystem and S3.
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { registryToml } from '../support/config.ts';
import { errorMessage, expectError, expectStatus, header } from '../support/expect.ts';
import { jsonBody, send, type HttpResponse } from '../support/http.ts';
import { content, descriptorOf, imageManifest, OCI_CONFIG, OCI_LAYER, sha256, type Content, type Manifest } from '../support/oci.ts';
import { deleteManifest, getBlob, headBlob, inParallel, patchChunk, pushBlob, putManifest, startUpload } from '../support/registry.ts';
import { expectAgreement, readView, SHARED_COUNTS, type RaceSubject, type RegistryView, type SharedCount } from '../support/registry-view.ts';
import { seededBytes } from '../support/seeded-bytes.ts';
import { SeededRandom } from '../support/seeded-random.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { BACKENDS, INLINE_BODIES, openBackend, type BackendName, type StorageBackend } from '../support/storage-backends.ts';
import { Tally } from '../support/tally.ts';
import { committedSize, completeUpload } from '../support/upload-session.ts';

const MiB = 1024 * 1024;
const PLACE = 'shared';
/**
 * Rounds of each race (S3, the Ceph RADOS Gateway on this machine, takes several times longer per request than the
 * filesystem); PARALLEL_ROUNDS run at once, on different tags, so races also overlap each other.
 */
const ROUNDS: Record<BackendName, number> = { filesystem: 24, s3: 16 };
const PARALLEL_ROUNDS = 4;
const IMMUTABLE_PUSHES = 50;
// Strict references make "a manifest never resolves to missing blobs" a property of the registry, not of the client.
const SERVER_TOML = registryToml({
  global: { ...INLINE_BODIES, allow_missing_manifest_references: false },
  extra: '[repository."locked"]\nimmutable_tags = true\n',
});

/** A config and a layer pushed to `ns` through `url` (the layer 4 KiB of seeded bytes). */
async function pushImageBlobs(url: string, ns: string, label: string): Promise<{ config: Content; layer: Content }> {
  const config = content(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, comment: label }));
  const layer = content(seededBytes(label, 4096));
  await Promise.all([pushBlob(url, ns, config), pushBlob(url, ns, layer)]);
  return { config, layer };
}

function imageOf(blobs: { config: Content; layer: Content }, label: string): Manifest {
  return imageManifest({ config: descriptorOf(blobs.config, OCI_CONFIG), layers: [descriptorOf(blobs.layer, OCI_LAYER)], annotations: { label } });
}

/** Runs two requests at once, one given a seeded head start of 0–6 ms so rounds land in different interleavings. */
async function race<A, B>(random: SeededRandom, first: () => Promise<A>, second: () => Promise<B>): Promise<[A, B]> {
  const delay = random.int(0, 6);
  const secondLater = random.chance(0.5);
  return Promise.all([sleep(secondLater ? 0 : delay).then(first), sleep(secondLater ? delay : 0).then(second)]);
}

function describeAnswer(response: HttpResponse): string {
  return `${response.status} ${response.body.toString('utf8').slice(0, 200)}`;
}

describe('two servers on one storage', { concurrency: true }, () => {
  for (const backendName of BACKENDS) {
    describe(`on ${backendName}`, { concurrency: 1 }, () => {
      const roundCount = ROUNDS[backendName];
      let backend: StorageBackend;
      let one: RunningServer;
      let two: RunningServer;
      const start = () => startServer({ rootDir: backend.rootDir(PLACE), storageToml: backend.storageToml(PLACE), extraToml: SERVER_TOML });
      /** Reads the subject through both servers and checks they agree. */
      const readBoth = async (subject: RaceSubject, tally: Tally<SharedCount>, what: string): Promise<RegistryView> => {
        const views = await Promise.all([one, two].map((server) => readView(server.url, subject, tally, what)));
        expectAgreement(views, tally, what);
        return views[0]!;
      };
      /** The servers in the roles of a round: which deletes (or pushes first) alternates. */
      const roles = (round: number): [RunningServer, RunningServer] => (round % 2 === 0 ? [one, two] : [two, one]);
      const finish = (t: TestContext, tally: Tally<SharedCount>, summary: string): void => {
        t.diagnostic(summary);
        tally.report(t);
        assert.deepEqual(tally.counts, tally.zeroes);
      };

      before(async () => {
        backend = await openBackend(backendName, { linkCacheTtl: 0 });
        [one, two] = await Promise.all([start(), start()]);
      });
      after(async () => {
        await Promise.all([one?.stop(), two?.stop()]);
        await backend?.close();
      });

      test('an upload session hops between servers and survives a restart', async () => {
        const name = 'shared/upload';
        const blob = seededBytes('shared/upload', 5 * MiB + 123);
        const cuts = [0, 2 * MiB, 3 * MiB + 7, 4 * MiB + 11, 5 * MiB, blob.length];
        const chunk = (index: number) => blob.subarray(cuts[index], cuts[index + 1]);
        let { location } = await startUpload(one.url, name);

        // Every step runs on a server whose in-memory view (if any) is stale: the other one appended last.
        const steps: Array<() => RunningServer> = [() => one, () => two, () => one, () => two];
        for (const [index, server] of steps.entries()) {
          if (index === 2) {
            await one.stop();
            one = await start();
          }
          const response = await patchChunk(server().url, location, chunk(index), cuts[index]!);
          expectStatus(response, 202);
          assert.equal(committedSize(response), cuts[index + 1]);
          location = header(response, 'location') ?? assert.fail('PATCH 202 without Location');
          const other = index % 2 === 0 ? two : one;
          const status = await send(other.url, 'GET', location);
          expectStatus(status, 204);
          assert.equal(committedSize(status), cuts[index + 1], `the other server's view after step ${index}`);
        }

        const digest = sha256(blob);
        const done = await completeUpload(one.url, location, digest, chunk(4));
        expectStatus(done, 201);
        assert.equal(header(done, 'docker-content-digest'), digest);
        assert.equal(header(done, 'location'), `/v2/${name}/blobs/${digest}`);

        for (const server of [one, two]) {
          const read = await getBlob(server.url, name, digest);
          expectStatus(read, 200);
          assert.ok(read.body.equals(blob), `blob bytes via ${server.url}`);
          expectError(await send(server.url, 'GET', location), 404, 'BLOB_UPLOAD_UNKNOWN');
        }
      });

      test('a blob pushed through one server is readable through the other', async () => {
        const blob = content(seededBytes('shared/blob', 2 * MiB + 5));
        await pushBlob(one.url, 'shared/blob', blob);

        const head = await headBlob(two.url, 'shared/blob', blob.digest);
        expectStatus(head, 200);
        assert.equal(header(head, 'content-length'), String(blob.size));
        const read = await getBlob(two.url, 'shared/blob', blob.digest);
        expectStatus(read, 200);
        assert.ok(read.body.equals(blob.bytes), 'bytes read through server two differ from those pushed through one');
        // Sharing storage does not share visibility: another namespace still cannot read it.
        expectError(await headBlob(two.url, 'shared/other', blob.digest), 404, 'BLOB_UNKNOWN', { head: true });
      });

      test(`same-tag races: ${roundCount} rounds of two manifests pushed to one tag through both servers`, async (t) => {
        const ns = 'shared/race';
        const tally = new Tally(SHARED_COUNTS);
        const random = new SeededRandom(`shared/race/${backendName}`);
        const blobs = await pushImageBlobs(one.url, ns, 'shared/race');
        const winners = { first: 0, second: 0 };
        const rounds = Array.from({ length: roundCount }, (_, round) => ({ round, tag: `race-${String(round).padStart(2, '0')}`, random: random.fork() }));
        await inParallel(rounds, PARALLEL_ROUNDS, async ({ round, tag, random: own }) => {
          const [a, b] = [imageOf(blobs, `race ${round} first`), imageOf(blobs, `race ${round} second`)];
          const [first, second] = roles(round);
          const pushes = await race(own, () => putManifest(first.url, ns, tag, a), () => putManifest(second.url, ns, tag, b));
          for (const [index, push] of pushes.entries()) {
            if (push.status !== 201) tally.flag('serverErrors', `round ${round}: push ${index} answered ${describeAnswer(push)}`);
          }
          const view = await readBoth({ ns, tags: [tag], manifests: [a, b], blobs: [blobs.config, blobs.layer] }, tally, `round ${round}`);
          const winner = view.tags[tag];
          if (winner === a.digest) winners.first++;
          else if (winner === b.digest) winners.second++;
          else tally.flag('illegalOutcomes', `round ${round}: ${tag} resolves to ${winner}, pushed ${a.digest} and ${b.digest}`);
          // The loser is only untagged: both revisions stay pullable by digest.
          if (!view.manifests[a.digest] || !view.manifests[b.digest]) tally.flag('illegalOutcomes', `round ${round}: a pushed revision is not pullable by digest`);
        });
        for (const server of [one, two]) {
          const listing = await send(server.url, 'GET', `/v2/${ns}/tags/list`);
          expectStatus(listing, 200);
          assert.deepEqual(jsonBody(listing), { name: ns, tags: rounds.map(({ tag }) => tag) }, `tags via ${server.url}`);
        }
        finish(t, tally, `${roundCount} rounds: the first-started push won ${winners.first}, the second ${winners.second}`);
      });

      test(`tag delete against a push of that tag: ${roundCount} rounds, the tag ends deleted or on the new manifest`, async (t) => {
        const ns = 'shared/delete-tag';
        const tally = new Tally(SHARED_COUNTS);
        const random = new SeededRandom(`shared/delete-tag/${backendName}`);
        const blobs = await pushImageBlobs(one.url, ns, 'shared/delete-tag');
        const outcomes = { deleted: 0, moved: 0 };
        const rounds = Array.from({ length: roundCount }, (_, round) => ({ round, random: random.fork() }));
        await inParallel(rounds, PARALLEL_ROUNDS, async ({ round, random: own }) => {
          const tag = `t-${round}`;
          const [held, next] = [imageOf(blobs, `delete-tag ${round} held`), imageOf(blobs, `delete-tag ${round} next`)];
          expectStatus(await putManifest(one.url, ns, tag, held), 201);
          const [deleter, pusher] = roles(round);
          const [deleted, pushed] = await race(own, () => deleteManifest(deleter.url, ns, tag), () => putManifest(pusher.url, ns, tag, next));
          if (deleted.status !== 202) tally.flag('serverErrors', `round ${round}: DELETE ${tag} answered ${describeAnswer(deleted)}`);
          if (pushed.status !== 201) tally.flag('serverErrors', `round ${round}: PUT ${tag} answered ${describeAnswer(pushed)}`);
          const view = await readBoth({ ns, tags: [tag], manifests: [held, next], blobs: [blobs.config, blobs.layer] }, tally, `round ${round}`);
          // Push then delete: no tag. Delete then push: the new manifest. Never the manifest held before both.
          const target = view.tags[tag];
          if (target === null) outcomes.deleted++;
          else if (target === next.digest) outcomes.moved++;
          else tally.flag('illegalOutcomes', `round ${round}: ${tag} resolves to ${target} after a delete and a push of ${next.digest}`);
          if (!view.manifests[held.digest] || !view.manifests[next.digest]) tally.flag('illegalOutcomes', `round ${round}: a tag delete removed a revision`);
        });
        finish(t, tally, `${roundCount} rounds: the tag ended deleted ${outcomes.deleted} times, on the new manifest ${outcomes.moved} times`);
      });

      test(`manifest delete against a push of that manifest with a new tag: ${roundCount} rounds, all gone or all there, no tag comes back`, async (t) => {
        const ns = 'shared/delete-digest';
        const tally = new Tally(SHARED_COUNTS);
        const random = new SeededRandom(`shared/delete-digest/${backendName}`);
        const blobs = await pushImageBlobs(one.url, ns, 'shared/delete-digest');
        const outcomes = { deleted: 0, pushed: 0 };
        const rounds = Array.from({ length: roundCount }, (_, round) => ({ round, random: random.fork() }));
        await inParallel(rounds, PARALLEL_ROUNDS, async ({ round, random: own }) => {
          const [held, again] = [`held-${round}`, `again-${round}`];
          const manifest = imageOf(blobs, `delete-digest ${round}`);
          expectStatus(await putManifest(one.url, ns, held, manifest), 201);
          const [deleter, pusher] = roles(round);
          const [deleted, pushed] = await race(own, () => deleteManifest(deleter.url, ns, manifest.digest), () => putManifest(pusher.url, ns, again, manifest));
          if (deleted.status !== 202) tally.flag('serverErrors', `round ${round}: DELETE answered ${describeAnswer(deleted)}`);
          if (pushed.status !== 201) tally.flag('serverErrors', `round ${round}: PUT ${again} answered ${describeAnswer(pushed)}`);
          const subject: RaceSubject = { ns, tags: [held, again], manifests: [manifest], blobs: [blobs.config, blobs.layer] };
          const view = await readBoth(subject, tally, `round ${round}`);
          // Delete then push: the manifest with the new tag only. Push then delete: nothing (a delete by digest
          // removes every tag on it). The old tag survives in neither order.
          const present = view.manifests[manifest.digest];
          if (present && view.tags[again] === manifest.digest && view.tags[held] === null) outcomes.pushed++;
          else if (!present && view.tags[again] === null && view.tags[held] === null) outcomes.deleted++;
          else tally.flag('illegalOutcomes', `round ${round}: manifest ${present ? 'present' : 'absent'}, ${held} → ${view.tags[held]}, ${again} → ${view.tags[again]}`);
          if (present) return;
          // A tag left pointing at the deleted revision would come back with it: push the same manifest by digest.
          expectStatus(await putManifest(one.url, ns, manifest.digest, manifest), 201);
          const revived = await readBoth(subject, tally, `round ${round}, pushed again by digest`);
          for (const tag of [held, again]) {
            if (revived.tags[tag] !== null) tally.flag('illegalOutcomes', `round ${round}: ${tag} came back when its deleted manifest was pushed again by digest`);
          }
        });
        finish(t, tally, `${roundCount} rounds: all gone ${outcomes.deleted} times, manifest with the new tag ${outcomes.pushed} times`);
      });

      test(`blob delete against a push of a manifest referencing it: ${roundCount} rounds, a served manifest always has its blobs`, async (t) => {
        const ns = 'shared/delete-blob';
        const tally = new Tally(SHARED_COUNTS);
        const random = new SeededRandom(`shared/delete-blob/${backendName}`);
        const outcomes = new Map<string, number>();
        const rounds = Array.from({ length: roundCount }, (_, round) => ({ round, random: random.fork() }));
        await inParallel(rounds, PARALLEL_ROUNDS, async ({ round, random: own }) => {
          const tag = `b-${round}`;
          const blobs = await pushImageBlobs(one.url, ns, `delete-blob ${round}`);
          const manifest = imageOf(blobs, `delete-blob ${round}`);
          const [deleter, pusher] = roles(round);
          const [deleted, pushed] = await race(
            own,
            () => send(deleter.url, 'DELETE', `/v2/${ns}/blobs/${blobs.layer.digest}`),
            () => putManifest(pusher.url, ns, tag, manifest),
          );
          const answers = `DELETE ${deleted.status}, PUT ${pushed.status}`;
          outcomes.set(answers, (outcomes.get(answers) ?? 0) + 1);
          // Legal answers: the delete first (202; the push then finds the blob unknown, 404, or already holds its
          // reference, 201), or the push first (201; the delete is refused while a manifest uses the blob, 405).
          const legal = ['DELETE 202, PUT 404', 'DELETE 202, PUT 201', 'DELETE 405, PUT 201'];
          if (!legal.includes(answers)) {
            const kind = deleted.status >= 500 || pushed.status >= 500 ? 'serverErrors' : 'illegalOutcomes';
            tally.flag(kind, `round ${round}: ${answers} (${describeAnswer(deleted)} / ${describeAnswer(pushed)})`);
          }
          if (pushed.status === 404) expectError(pushed, 404, 'MANIFEST_BLOB_UNKNOWN');
          if (deleted.status === 405) assert.match(String(errorMessage(deleted)), /referenced by a manifest/);
          const view = await readBoth({ ns, tags: [tag], manifests: [manifest], blobs: [blobs.config, blobs.layer] }, tally, `round ${round}`);
          // readView flags a served manifest whose layer is not served; here the state must also match the answers.
          const served = view.manifests[manifest.digest] === true && view.tags[tag] === manifest.digest;
          if (served !== (pushed.status === 201)) tally.flag('illegalOutcomes', `round ${round}: ${answers} but the manifest is ${served ? '' : 'not '}served`);
          if (pushed.status === 404 && view.blobs[blobs.layer.digest]) tally.flag('illegalOutcomes', `round ${round}: ${answers} but the layer is still served`);
        });
        finish(t, tally, `${roundCount} rounds: ${[...outcomes].map(([answers, count]) => `${answers} × ${count}`).join(', ')}`);
      });

      test(`immutable tags: ${IMMUTABLE_PUSHES} racing first pushes of different manifests, exactly one 201; of one manifest, all 201`, async (t) => {
        const ns = 'locked/app';
        const tally = new Tally(SHARED_COUNTS);
        const blobs = await pushImageBlobs(one.url, ns, 'locked/app');
        for (const tag of ['v1', 'v2', 'v3']) {
          const manifests = Array.from({ length: IMMUTABLE_PUSHES }, (_, i) => imageOf(blobs, `${tag} contender ${i}`));
          const servers = manifests.map((_, i) => (i % 2 === 0 ? one : two));
          const responses = await Promise.all(manifests.map((manifest, i) => putManifest(servers[i]!.url, ns, tag, manifest)));
          const created = manifests.filter((_, i) => responses[i]!.status === 201);
          if (created.length !== 1) tally.flag('illegalOutcomes', `${tag}: ${created.length} pushes answered 201`);
          for (const response of responses.filter((r) => r.status !== 201)) {
            const denied = response.status === 409 && (jsonBody(response) as { errors: Array<{ code: string }> }).errors[0]?.code === 'DENIED';
            if (!denied) tally.flag(response.status >= 500 ? 'serverErrors' : 'illegalOutcomes', `${tag}: a losing push answered ${describeAnswer(response)}`);
          }
          const view = await readBoth({ ns, tags: [tag], manifests, blobs: [blobs.config, blobs.layer] }, tally, tag);
          if (created[0] !== undefined && view.tags[tag] !== created[0].digest) tally.flag('illegalOutcomes', `${tag} resolves to ${view.tags[tag]}, the 201 was ${created[0].digest}`);
          // A refused push stores nothing: the claim comes before the body and every key (docs/architecture.md).
          const leftovers = manifests.filter((manifest) => manifest !== created[0] && view.manifests[manifest.digest]);
          if (leftovers.length > 0) tally.flag('illegalOutcomes', `${tag}: ${leftovers.length} refused pushes left their manifest`);
        }
        const same = imageOf(blobs, 'one digest');
        const responses = await Promise.all(Array.from({ length: IMMUTABLE_PUSHES }, (_, i) => putManifest((i % 2 === 0 ? one : two).url, ns, 'same', same)));
        for (const response of responses.filter((r) => r.status !== 201)) tally.flag('illegalOutcomes', `same: a push of the same digest answered ${describeAnswer(response)}`);
        const view = await readBoth({ ns, tags: ['same'], manifests: [same], blobs: [blobs.config, blobs.layer] }, tally, 'same');
        if (view.tags.same !== same.digest) tally.flag('illegalOutcomes', `same resolves to ${view.tags.same}`);
        finish(t, tally, `3 tags × ${IMMUTABLE_PUSHES} different manifests, then ${IMMUTABLE_PUSHES} pushes of one digest`);
      });
    });
  }
});
