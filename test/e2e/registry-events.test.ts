// The registry's event seam over HTTP (docs/architecture.md, "Registry events"): every operation announces exactly
// one event with the caller, the namespace and the author time, and a `beforeCommit` veto stores nothing (checked
// by listing every file of the store) and answers 500 with the refusal.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { hashPassword } from '../../src/cli/argon.ts';
import { MemoryCache } from '../../src/cache/memory-cache.ts';
import { loadConfig } from '../../src/config/load.ts';
import { isImmutableTag } from '../../src/config/repository-lookup.ts';
import { createRegistryServer } from '../../src/http/server.ts';
import type { ChangeEvent, RegistryEvent, RegistryEventSink } from '../../src/registry/events.ts';
import { FsObjectStore } from '../../src/storage/fs/fs-object-store.ts';
import { JobStore } from '../../src/jobs/job-store.ts';
import { DEFAULT_JOB_POLICY } from '../../src/jobs/queue.ts';
import { expectError, expectStatus } from '../support/expect.ts';
import { request, type HttpResponse, type RequestOptions } from '../support/http.ts';
import { content, imageManifest, manifestDescriptor, OCI_LAYER, sha256 } from '../support/oci.ts';
import { testRegistry } from '../support/registry-settings.ts';

/** Records what the registry announces; `veto` makes `beforeCommit` refuse one kind of change. */
class RecordingSink implements RegistryEventSink {
  readonly events: RegistryEvent[] = [];
  readonly proposed: ChangeEvent[] = [];
  veto: ChangeEvent['kind'] | undefined;

  async beforeCommit(event: ChangeEvent): Promise<void> {
    this.proposed.push(event);
    if (event.kind === this.veto) throw new Error(`Webhook 'gate' failed: after 1 attempt(s): refused ${event.kind}`);
  }

  committed(event: RegistryEvent): void {
    this.events.push(event);
  }
}

/** One field of an event, whatever its kind. */
function field(event: RegistryEvent | undefined, name: string): unknown {
  return (event as unknown as Record<string, unknown> | undefined)?.[name];
}

const AUTH = { authorization: `Basic ${Buffer.from('alice:hunter2').toString('base64')}` };
const ACTOR = { id: 'ci', username: 'alice', clientIp: '127.0.0.1' };

describe('registry events over HTTP', () => {
  let workDir: string;
  let dataDir: string;
  let server: Server;
  let url: string;
  const sink = new RecordingSink();

  const send = (path: string, options: RequestOptions = {}) => request(url, path, { ...options, headers: { ...AUTH, ...options.headers } });

  /** Runs `operation` and returns the one event it announced (failing if there is not exactly one). */
  async function onlyEvent(operation: () => Promise<unknown>): Promise<RegistryEvent> {
    const before = sink.events.length;
    const startedMicros = Date.now() * 1000;
    await operation();
    const events = sink.events.slice(before);
    assert.equal(events.length, 1, `exactly one event, got ${events.map((e) => e.kind).join(', ') || 'none'}`);
    const event = events[0]!;
    assert.deepEqual(event.actor, ACTOR);
    assert.ok(event.authoredAt >= startedMicros && event.authoredAt <= Date.now() * 1000, 'authored now');
    return event;
  }

  async function noEvent(operation: () => Promise<unknown>): Promise<void> {
    const before = sink.events.length;
    await operation();
    assert.deepEqual(sink.events.slice(before).map((e) => e.kind), []);
  }

  async function uploadBlob(ns: string, text: string) {
    const blob = content(text);
    const response = await send(`/v2/${ns}/blobs/uploads/?digest=${blob.digest}`, { method: 'POST', body: blob.bytes });
    expectStatus(response, 201);
    return blob;
  }

  async function putManifest(ns: string, reference: string, bytes: Buffer, mediaType: string, headers: Record<string, string> = {}) {
    return send(`/v2/${ns}/manifests/${reference}`, { method: 'PUT', body: bytes, headers: { 'content-type': mediaType, ...headers } });
  }

  /** Every file of the data directory, for proving that a vetoed change stored nothing. */
  async function storedFiles(): Promise<string[]> {
    const entries = await readdir(dataDir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => relative(dataDir, join(e.parentPath, e.name))).sort();
  }

  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'angos-events-'));
    dataDir = join(workDir, 'data');
    const path = join(workDir, 'config.toml');
    await writeFile(
      path,
      `[server]\nbind_address = "127.0.0.1"\nport = 0\n[blob_store.fs]\nroot_dir = ${JSON.stringify(dataDir)}\n` +
        `[global.access_policy]\ndefault = "allow"\n[auth.identity.ci]\nusername = "alice"\npassword = ${JSON.stringify(await hashPassword('hunter2'))}\n` +
        `[repository."locked"]\nimmutable_tags = true\n`,
    );
    const config = await loadConfig([path]);
    const store = new FsObjectStore({ rootDir: dataDir });
    const registry = testRegistry(
      store,
      store,
      () => ({
        maxManifestSize: config.global.maxManifestSize,
        maxBlobSize: config.global.maxBlobSize,
        allowMissingManifestReferences: true,
        isImmutable: (ns, tag) => isImmutableTag(config, ns, tag),
        presignTtlSecs: 1800,
        updatePullTime: false,
      }),
      { events: sink },
    );
    const components = { registry, cache: new MemoryCache(), jobs: new JobStore(store, () => DEFAULT_JOB_POLICY) };
    server = createRegistryServer({ components: () => components, config: () => config });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.close();
    await rm(workDir, { recursive: true, force: true });
  });

  beforeEach(() => {
    sink.veto = undefined;
  });

  it('uploads: a single-request upload and a chunked one each announce one completed upload, at the end', async () => {
    const blob = content('events-monolithic');
    const single = await onlyEvent(() => uploadBlob('ev/app', 'events-monolithic'));
    assert.deepEqual({ ...single, actor: undefined, authoredAt: undefined }, {
      kind: 'blob-upload-completed',
      namespace: 'ev/app',
      digest: blob.digest,
      actor: undefined,
      authoredAt: undefined,
    });

    const chunked = content('events-chunked');
    let location = '';
    await noEvent(async () => {
      const started = await send('/v2/ev/app/blobs/uploads/', { method: 'POST' });
      expectStatus(started, 202);
      const patched = await send(started.headers.location!, { method: 'PATCH', body: chunked.bytes, headers: { 'content-range': `0-${chunked.size - 1}` } });
      expectStatus(patched, 202);
      location = patched.headers.location!;
    });
    const completed = await onlyEvent(async () => expectStatus(await send(`${location}?digest=${chunked.digest}`, { method: 'PUT' }), 201));
    assert.equal(completed.kind, 'blob-upload-completed');
    assert.equal(field(completed, 'digest'), chunked.digest);
  });

  it('a mount announces the source; a mount that falls back to a session announces nothing', async () => {
    const blob = await uploadBlob('ev/source', 'events-mounted');
    const event = await onlyEvent(async () =>
      expectStatus(await send(`/v2/ev/target/blobs/uploads/?mount=${blob.digest}&from=ev/source`, { method: 'POST' }), 201),
    );
    assert.equal(event.kind, 'blob-mounted');
    assert.deepEqual([event.namespace, field(event, 'from'), field(event, 'digest')], ['ev/target', 'ev/source', blob.digest]);
    await noEvent(async () => expectStatus(await send(`/v2/ev/target/blobs/uploads/?mount=${sha256('absent')}&from=ev/source`, { method: 'POST' }), 202));
  });

  it('manifest pushes by tag and by digest with ?tag= announce what they set and what moved', async () => {
    const layer = await uploadBlob('ev/push', 'events-layer');
    const image = imageManifest({ layers: [{ mediaType: OCI_LAYER, digest: layer.digest, size: layer.size }] });
    const byTag = await onlyEvent(async () => expectStatus(await putManifest('ev/push', 'v1', image.bytes, image.mediaType), 201));
    assert.deepEqual(
      { ...byTag, actor: undefined, authoredAt: undefined },
      {
        kind: 'manifest-pushed',
        namespace: 'ev/push',
        actor: undefined,
        authoredAt: undefined,
        reference: { kind: 'tag', tag: 'v1' },
        digest: image.digest,
        mediaType: image.mediaType,
        size: image.size,
        tags: ['v1'],
        movedTags: ['v1'],
        created: true,
      },
    );
    const again = await onlyEvent(async () => expectStatus(await putManifest('ev/push', 'v1', image.bytes, image.mediaType), 201));
    assert.deepEqual([field(again, 'movedTags'), field(again, 'created')], [[], false], 'an identical re-push moves nothing');

    const signature = imageManifest({ subject: manifestDescriptor(image), artifactType: 'application/x-signature' });
    const byDigest = await onlyEvent(async () =>
      expectStatus(await putManifest('ev/push', `${signature.digest}?tag=b&tag=a&tag=v1`, signature.bytes, signature.mediaType), 201),
    );
    assert.equal(byDigest.kind, 'manifest-pushed');
    const pushed = byDigest as Extract<RegistryEvent, { kind: 'manifest-pushed' }>;
    assert.deepEqual([pushed.reference, pushed.tags, pushed.movedTags, pushed.subject], [{ kind: 'digest', digest: signature.digest }, ['a', 'b', 'v1'], ['a', 'b', 'v1'], image.digest]);
  });

  it('pulls: manifest GET and HEAD and blob GET announce a pull; blob HEAD does not', async () => {
    const blob = await uploadBlob('ev/pull', 'events-pulled');
    const image = imageManifest({ annotations: { pull: 'yes' } });
    expectStatus(await putManifest('ev/pull', 'latest', image.bytes, image.mediaType), 201);
    for (const method of ['GET', 'HEAD']) {
      const event = await onlyEvent(async () => expectStatus(await send('/v2/ev/pull/manifests/latest', { method }), 200));
      assert.deepEqual([event.kind, field(event, 'digest'), field(event, 'reference')], ['manifest-pulled', image.digest, { kind: 'tag', tag: 'latest' }]);
    }
    const pulled = await onlyEvent(async () => expectStatus(await send(`/v2/ev/pull/blobs/${blob.digest}`), 200));
    assert.deepEqual([pulled.kind, pulled.namespace, field(pulled, 'digest')], ['blob-pulled', 'ev/pull', blob.digest]);
    await noEvent(async () => expectStatus(await send(`/v2/ev/pull/blobs/${blob.digest}`, { method: 'HEAD' }), 200));
    await noEvent(async () => expectError(await send('/v2/ev/pull/manifests/absent'), 404, 'MANIFEST_UNKNOWN'));
  });

  it('deletes of a tag, a revision and a blob each announce what they removed', async () => {
    const blob = await uploadBlob('ev/del', 'events-deleted');
    const image = imageManifest({ annotations: { del: '1' } });
    const other = imageManifest({ annotations: { del: '2' } });
    expectStatus(await putManifest('ev/del', 'a', image.bytes, image.mediaType), 201);
    expectStatus(await putManifest('ev/del', 'b', other.bytes, other.mediaType), 201);
    expectStatus(await putManifest('ev/del', 'c', other.bytes, other.mediaType), 201);

    const tag = await onlyEvent(async () => expectStatus(await send('/v2/ev/del/manifests/a', { method: 'DELETE' }), 202));
    assert.deepEqual([tag.kind, field(tag, 'tag'), field(tag, 'digest')], ['tag-deleted', 'a', image.digest]);
    const absent = await onlyEvent(async () => expectStatus(await send('/v2/ev/del/manifests/a', { method: 'DELETE' }), 202));
    assert.equal(field(absent, 'digest'), undefined, 'deleting an absent tag changes nothing and says so');

    const revision = await onlyEvent(async () => expectStatus(await send(`/v2/ev/del/manifests/${other.digest}`, { method: 'DELETE' }), 202));
    assert.deepEqual(
      [revision.kind, field(revision, 'digest'), field(revision, 'existed'), field(revision, 'tags')],
      ['revision-deleted', other.digest, true, ['b', 'c']],
    );

    const deleted = await onlyEvent(async () => expectStatus(await send(`/v2/ev/del/blobs/${blob.digest}`, { method: 'DELETE' }), 202));
    assert.deepEqual([deleted.kind, field(deleted, 'digest')], ['blob-deleted', blob.digest]);
  });

  it('a replicated push is authored at its source time, to the microsecond', async () => {
    const image = imageManifest({ annotations: { replicated: 'yes' } });
    const before = sink.events.length;
    const response = await putManifest('ev/replica', 'v1', image.bytes, image.mediaType, { 'x-angos-source-timestamp': '2026-03-02T09:14:07.512348Z' });
    expectStatus(response, 201);
    const events = sink.events.slice(before);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.authoredAt, Date.UTC(2026, 2, 2, 9, 14, 7) * 1000 + 512348);
  });

  it('a vetoed push, tag delete, upload or blob delete stores nothing and answers 500 with the refusal', async () => {
    const image = imageManifest({ annotations: { veto: 'push' } });
    expectStatus(await putManifest('ev/veto', 'kept', image.bytes, image.mediaType), 201);
    const blob = await uploadBlob('ev/veto', 'events-veto-kept');

    const cases: Array<[ChangeEvent['kind'], () => Promise<HttpResponse>]> = [
      ['manifest-pushed', () => {
        const fresh = imageManifest({ annotations: { veto: 'refused' } });
        return putManifest('ev/veto', 'refused', fresh.bytes, fresh.mediaType);
      }],
      ['tag-deleted', () => send('/v2/ev/veto/manifests/kept', { method: 'DELETE' })],
      ['revision-deleted', () => send(`/v2/ev/veto/manifests/${image.digest}`, { method: 'DELETE' })],
      ['blob-upload-completed', () => {
        const fresh = content('events-veto-refused');
        return send(`/v2/ev/veto/blobs/uploads/?digest=${fresh.digest}`, { method: 'POST', body: fresh.bytes });
      }],
      ['blob-deleted', () => send(`/v2/ev/veto/blobs/${blob.digest}`, { method: 'DELETE' })],
      ['blob-mounted', () => send(`/v2/ev/veto-target/blobs/uploads/?mount=${blob.digest}&from=ev/veto`, { method: 'POST' })],
    ];
    for (const [kind, operation] of cases) {
      sink.veto = kind;
      const files = await storedFiles();
      const before = sink.events.length;
      const response = await operation();
      // The one 5xx whose message reaches the client: the refusal the operator configured, not internal text.
      expectStatus(response, 500);
      assert.deepEqual(JSON.parse(response.body.toString('utf8')), {
        errors: [{ code: 'INTERNAL_ERROR', message: `Webhook 'gate' failed: after 1 attempt(s): refused ${kind}` }],
      });
      assert.equal(sink.proposed.at(-1)?.kind, kind);
      assert.deepEqual(await storedFiles(), files, `${kind}: nothing stored or removed`);
      assert.deepEqual(sink.events.slice(before), [], `${kind}: nothing announced as committed`);
    }
    sink.veto = undefined;
    expectStatus(await send('/v2/ev/veto/manifests/kept'), 200);
    expectStatus(await send(`/v2/ev/veto/blobs/${blob.digest}`), 200);
  });
});
