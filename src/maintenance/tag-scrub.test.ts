// `scrub --tags` on a real filesystem store: keys under names that are no tag, tags whose manifest bytes vanished,
// tags whose revision record vanished; nothing inside grace, nothing in a dry run.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DOCKER_MANIFEST } from '../oci/media-type.ts';
import { parseTag } from '../oci/tag.ts';
import { accessKeys, blobKeys, ordOf, refKeys, revisionKeys, tagKeys } from '../registry/keys.ts';
import { done, namespace, RepairWorld, sha256 } from './repair-fixture.ts';
import { tagsCheck } from './tag-scrub.ts';

const NS = 'team/app';
const ns = namespace(NS);
const tag = (name: string) => parseTag(name)!;

describe('scrub --tags', () => {
  let world: RepairWorld;
  beforeEach(async () => (world = await RepairWorld.open()));
  afterEach(() => world.close());

  it('removes keys filed under a name that is no tag (events and pull history), past grace only', async () => {
    const pushed = await world.push(NS, { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: [] }, 'v1');
    const badEvent = `${tagKeys.namespace(ns)}/-bad!${ordOf(Date.now())}.set.${pushed.digest.replace(':', '.')}`;
    const badPull = `${accessKeys.tags(ns)}/-bad!/${ordOf(Date.now())}.0123abcd`;
    const junk = `${tagKeys.namespace(ns)}/v1!not-an-event`;
    for (const key of [badEvent, badPull, junk]) await world.store.put(key, '{}');

    assert.equal(done(await world.run(tagsCheck, NS, { now: Date.now() }), 'delete invalid tag'), 0, 'inside grace');
    const before = await world.snapshot();
    assert.equal(done(await world.run(tagsCheck, NS, { dryRun: true }), 'delete invalid tag'), 1);
    assert.deepEqual(await world.snapshot(), before, 'a dry run changes nothing');

    assert.equal(done(await world.run(tagsCheck, NS), 'delete invalid tag'), 1);
    assert.equal(await world.has(badEvent), false);
    assert.equal(await world.has(badPull), false);
    assert.equal(await world.has(junk), true, 'a key under a valid tag name that does not parse is only reported');
    assert.equal((await world.registry.manifests.stat(ns, { kind: 'tag', tag: tag('v1') })).digest, pushed.digest);
  });

  it('a tag whose manifest bytes vanished becomes absent and its revision is deleted', async () => {
    const pushed = await world.push(NS, { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: [] }, 'gone');
    await world.store.delete(blobKeys.data(pushed.digest));

    assert.equal(done(await world.run(tagsCheck, NS, { now: Date.now() }), 'delete revision'), 0, 'inside grace');
    assert.equal(await world.has(revisionKeys.revision(ns, pushed.digest)), true);
    const before = await world.snapshot();
    assert.equal(done(await world.run(tagsCheck, NS, { dryRun: true }), 'delete revision'), 1);
    assert.deepEqual(await world.snapshot(), before);

    assert.equal(done(await world.run(tagsCheck, NS), 'delete revision'), 1);
    assert.equal(await world.has(revisionKeys.revision(ns, pushed.digest)), false);
    const winner = await world.registry.metadata.fresh.tagWinner(ns, tag('gone'));
    assert.equal(winner?.action, 'del', 'the tag is tombstoned, so a re-push of the digest does not bring it back');
    assert.equal(done(await world.run(tagsCheck, NS), 'delete revision'), 0, 'nothing left to do');
  });

  it('recreates a vanished revision record: media type from the tag event, size from the body, reference keys first', async () => {
    // No `mediaType` in the body: only the tag event remembers the Docker type it was pushed as.
    const pushed = await world.push(NS, { schemaVersion: 2, layers: [] }, 'latest', DOCKER_MANIFEST);
    const created = (await world.registry.metadata.fresh.revisions(ns).then((lookup) => lookup(pushed.digest)))!.created_at;
    await world.store.delete(revisionKeys.revision(ns, pushed.digest));
    await world.store.delete(refKeys.key(pushed.digest, ns, { kind: 'rev' }));
    await assert.rejects(world.registry.manifests.stat(ns, { kind: 'tag', tag: tag('latest') }), 'the tag reads as absent');

    assert.equal(done(await world.run(tagsCheck, NS, { now: Date.now() }), 'recreate revision record'), 0, 'inside grace');
    assert.equal(done(await world.run(tagsCheck, NS, { dryRun: true }), 'recreate revision record'), 1);
    assert.equal(await world.has(revisionKeys.revision(ns, pushed.digest)), false);

    assert.equal(done(await world.run(tagsCheck, NS), 'recreate revision record'), 1);
    const record = JSON.parse((await world.store.get(revisionKeys.revision(ns, pushed.digest))).toString()) as Record<string, unknown>;
    assert.deepEqual(record, { media_type: DOCKER_MANIFEST, size: pushed.bytes.length, created_at: created });
    assert.equal(await world.has(refKeys.key(pushed.digest, ns, { kind: 'rev' })), true);
    assert.equal(await world.has(refKeys.key(pushed.digest, ns, { kind: 'tag', tag: tag('latest') })), true);
    const stored = await world.registry.manifests.stat(ns, { kind: 'tag', tag: tag('latest') });
    assert.deepEqual(stored, { digest: pushed.digest, mediaType: DOCKER_MANIFEST, size: pushed.bytes.length });
  });

  it('leaves alone a tag whose record is missing and whose body is not a manifest', async () => {
    const bytes = Buffer.from('not json');
    const digest = sha256(bytes);
    await world.store.put(blobKeys.data(digest), bytes);
    await world.store.put(tagKeys.event(ns, tag('odd'), { ord: ordOf(Date.now()), action: 'set', digest }), '{}');
    const before = await world.snapshot();
    const counts = await world.run(tagsCheck, NS);
    assert.equal(counts.done.size, 0);
    assert.deepEqual(await world.snapshot(), before);
  });
});
