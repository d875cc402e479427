// `scrub --media-types` on a real filesystem store: missing media types of revision records and tag winners come
// from the body (declared, else implied by its shape); a record whose body is gone is deleted by digest.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { OCI_INDEX, OCI_MANIFEST } from '../oci/media-type.ts';
import { parseTag } from '../oci/tag.ts';
import { blobKeys, revisionKeys, tagKeys } from '../registry/keys.ts';
import { mediaTypesCheck } from './media-type-scrub.ts';
import { done, imageJson, namespace, RepairWorld } from './repair-fixture.ts';

const NS = 'team/app';
const ns = namespace(NS);

describe('scrub --media-types', () => {
  let world: RepairWorld;
  beforeEach(async () => (world = await RepairWorld.open()));
  afterEach(() => world.close());

  it('backfills records and tag winners, shape-implied when the body declares none, and deletes a bodiless record', async () => {
    const image = await world.push(NS, imageJson(await world.upload(NS, 'cfg')), 'image');
    // An index whose body names no media type, pushed under the OCI index type.
    const index = await world.push(NS, { schemaVersion: 2, manifests: [{ mediaType: OCI_MANIFEST, digest: image.digest, size: image.bytes.length }] }, 'index', OCI_INDEX);
    const lost = await world.push(NS, imageJson(await world.upload(NS, 'cfg-lost')));
    const record = (digest: string) => revisionKeys.revision(ns, digest as never);
    const read = async (key: string) => JSON.parse((await world.store.get(key)).toString()) as Record<string, unknown>;
    const created = (await read(record(index.digest))).created_at;
    await world.store.put(record(index.digest), JSON.stringify({ size: index.bytes.length, created_at: created, extra: 'kept' }));
    await world.store.put(record(image.digest), JSON.stringify({ created_at: created }));
    await world.store.put(record(lost.digest), JSON.stringify({ created_at: created }));
    await world.store.delete(blobKeys.data(lost.digest));
    const imageTag = parseTag('image')!;
    const event = tagKeys.event(ns, imageTag, (await world.registry.metadata.fresh.tagWinner(ns, imageTag))!);
    await world.store.put(event, JSON.stringify({ annotations: { a: 'b' } }));

    assert.equal((await world.run(mediaTypesCheck, NS, { now: Date.now() })).done.size, 0, 'inside grace');
    const before = await world.snapshot();
    const dry = await world.run(mediaTypesCheck, NS, { dryRun: true });
    assert.deepEqual([done(dry, 'backfill media type of revision'), done(dry, 'backfill media type of tag'), done(dry, 'delete revision')], [2, 1, 1]);
    assert.deepEqual(await world.snapshot(), before);

    const real = await world.run(mediaTypesCheck, NS);
    assert.deepEqual([done(real, 'backfill media type of revision'), done(real, 'backfill media type of tag'), done(real, 'delete revision')], [2, 1, 1]);
    assert.deepEqual(await read(record(index.digest)), { size: index.bytes.length, created_at: created, extra: 'kept', media_type: OCI_INDEX });
    assert.deepEqual(await read(record(image.digest)), { created_at: created, media_type: OCI_MANIFEST, size: image.bytes.length });
    assert.deepEqual(await read(event), { annotations: { a: 'b' }, media_type: OCI_MANIFEST, size: image.bytes.length });
    assert.equal(await world.has(record(lost.digest)), false);
    assert.equal((await world.registry.manifests.stat(ns, { kind: 'tag', tag: parseTag('index')! })).mediaType, OCI_INDEX);
  });
});
