// `scrub --links` on a real filesystem store: revisions whose bytes are gone, records that disagree with their body,
// back-links restored only where the namespace already reads the blob, phantom back-links, damaged referrer records.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { parseTag } from '../oci/tag.ts';
import { blobKeys, refKeys, referrerKeys, revisionKeys } from '../registry/keys.ts';
import { linksCheck, phantomLinksCheck } from './link-scrub.ts';
import { done, imageJson, namespace, RepairWorld } from './repair-fixture.ts';

const NS = 'team/app';
const ns = namespace(NS);
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const recordOf = async (world: RepairWorld, digest: string) =>
  JSON.parse((await world.store.get(revisionKeys.revision(ns, digest as never))).toString()) as Record<string, unknown>;

describe('scrub --links', () => {
  let world: RepairWorld;
  beforeEach(async () => (world = await RepairWorld.open()));
  afterEach(() => world.close());

  it('deletes a revision whose body is missing, even with a record that does not parse', async () => {
    const kept = await world.push(NS, imageJson(await world.upload(NS, 'cfg-kept')), 'kept');
    const lost = await world.push(NS, imageJson(await world.upload(NS, 'cfg-lost')), 'lost');
    const garbled = await world.push(NS, imageJson(await world.upload(NS, 'cfg-garbled')), 'garbled');
    for (const { digest } of [lost, garbled]) await world.store.delete(blobKeys.data(digest));
    await world.store.put(revisionKeys.revision(ns, garbled.digest), '{not json');

    assert.equal(done(await world.run(linksCheck, NS, { now: Date.now() }), 'delete revision'), 0, 'inside grace');
    const before = await world.snapshot();
    assert.equal(done(await world.run(linksCheck, NS, { dryRun: true }), 'delete revision'), 2);
    assert.deepEqual(await world.snapshot(), before);

    assert.equal(done(await world.run(linksCheck, NS), 'delete revision'), 2);
    for (const { digest } of [lost, garbled]) assert.equal(await world.has(revisionKeys.revision(ns, digest)), false);
    assert.equal((await world.registry.metadata.fresh.tagWinner(ns, parseTag('garbled')!))?.action, 'del');
    assert.equal((await world.registry.manifests.stat(ns, { kind: 'tag', tag: parseTag('kept')! })).digest, kept.digest);
  });

  it('rewrites a record that does not parse or disagrees with its body, keeping what it can', async () => {
    const garbled = await world.push(NS, imageJson(await world.upload(NS, 'cfg-1')));
    const wrongSize = await world.push(NS, imageJson(await world.upload(NS, 'cfg-2')));
    const created = (await recordOf(world, wrongSize.digest)).created_at;
    await world.store.put(revisionKeys.revision(ns, garbled.digest), '[]');
    await world.store.put(revisionKeys.revision(ns, wrongSize.digest), JSON.stringify({ media_type: OCI_MANIFEST, size: 1, created_at: created }));

    const counts = await world.run(linksCheck, NS);
    assert.equal(done(counts, 'rewrite revision record'), 2);
    assert.deepEqual(await recordOf(world, wrongSize.digest), { media_type: OCI_MANIFEST, size: wrongSize.bytes.length, created_at: created });
    const rewritten = await recordOf(world, garbled.digest);
    assert.equal(rewritten.media_type, OCI_MANIFEST);
    assert.equal(rewritten.size, garbled.bytes.length);
    assert.equal(done(await world.run(linksCheck, NS), 'rewrite revision record'), 0);
  });

  it('restores a back-link on a blob the namespace reads, and none on a blob it never held', async () => {
    const config = await world.upload(NS, 'config');
    const layer = await world.upload(NS, 'layer');
    const foreign = await world.upload('other/ns', 'foreign layer');
    const pushed = await world.push(NS, imageJson(config, [layer, foreign]));
    const backLink = refKeys.key(layer.digest, ns, { kind: 'manifest', manifest: pushed.digest });
    const never = refKeys.key(foreign.digest, ns, { kind: 'manifest', manifest: pushed.digest });
    assert.equal(await world.has(never), false, 'the push recorded no key for what the namespace cannot read');
    await world.store.delete(backLink);

    assert.equal(done(await world.run(linksCheck, NS, { now: Date.now() }), 'restore reference key'), 0, 'inside grace');
    assert.equal(done(await world.run(linksCheck, NS), 'restore reference key'), 1);
    assert.equal(await world.has(backLink), true);
    assert.equal(await world.has(never), false, 'restoring never grants');
    assert.equal(await world.registry.access.canRead(ns, foreign.digest), false);
  });

  it('deletes back-links of a manifest that is no longer a revision of their namespace, past grace', async () => {
    const layer = await world.upload(NS, 'shared layer');
    const live = await world.push(NS, imageJson(await world.upload(NS, 'cfg-live'), [layer]));
    const gone = await world.push(NS, imageJson(await world.upload(NS, 'cfg-gone'), [layer]));
    await world.store.delete(revisionKeys.revision(ns, gone.digest));
    const phantom = refKeys.key(layer.digest, ns, { kind: 'manifest', manifest: gone.digest });
    const backed = refKeys.key(layer.digest, ns, { kind: 'manifest', manifest: live.digest });

    assert.equal(done(await world.run(phantomLinksCheck, undefined, { now: Date.now() }), 'delete phantom back-link'), 0, 'inside grace');
    const before = await world.snapshot();
    assert.equal(done(await world.run(phantomLinksCheck, undefined, { dryRun: true }), 'delete phantom back-link'), 2, "the layer's and the config's");
    assert.deepEqual(await world.snapshot(), before);

    assert.equal(done(await world.run(phantomLinksCheck, undefined), 'delete phantom back-link'), 2);
    assert.equal(await world.has(phantom), false);
    assert.equal(await world.has(backed), true);
    assert.equal(await world.has(refKeys.key(layer.digest, ns, { kind: 'own' })), true, 'grants are not back-links');
  });

  it('rewrites a referrer record that does not parse, deletes one whose referrer names another subject', async () => {
    const subject = await world.push(NS, imageJson(await world.upload(NS, 'cfg-subject')), 'v1');
    const other = await world.push(NS, imageJson(await world.upload(NS, 'cfg-other')), 'v2');
    const descriptor = { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.bytes.length };
    const signature = await world.push(NS, imageJson(await world.upload(NS, 'cfg-sig'), [], { subject: descriptor }));
    const listed = await world.registry.referrers.list(ns, subject.digest, {});
    await world.store.put(referrerKeys.record(ns, subject.digest, signature.digest), 'garbage');
    const misfiled = referrerKeys.record(ns, other.digest, signature.digest);
    await world.store.put(misfiled, '{}');

    const counts = await world.run(linksCheck, NS);
    assert.equal(done(counts, 'rewrite referrer record'), 1);
    assert.equal(done(counts, 'delete referrer record'), 1);
    assert.deepEqual(await world.registry.referrers.list(ns, subject.digest, {}), listed);
    assert.equal(await world.has(misfiled), false);
  });
});
