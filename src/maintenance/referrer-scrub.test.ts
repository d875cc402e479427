// `scrub --referrers` on a real filesystem store: a referrer record left by a referrer that is no longer a revision
// goes, with its `sub.<s>` key, past grace only; the referrers API stops listing it.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { refKeys, referrerKeys, revisionKeys } from '../registry/keys.ts';
import { referrersCheck } from './referrer-scrub.ts';
import { done, imageJson, namespace, RepairWorld } from './repair-fixture.ts';

const NS = 'team/app';
const ns = namespace(NS);

describe('scrub --referrers', () => {
  let world: RepairWorld;
  beforeEach(async () => (world = await RepairWorld.open()));
  afterEach(() => world.close());

  it('deletes the record of a deleted referrer and keeps those of live ones', async () => {
    const subject = await world.push(NS, imageJson(await world.upload(NS, 'cfg-subject')), 'v1');
    const descriptor = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: subject.digest, size: subject.bytes.length };
    const live = await world.push(NS, imageJson(await world.upload(NS, 'cfg-live'), [], { subject: descriptor }));
    const gone = await world.push(NS, imageJson(await world.upload(NS, 'cfg-gone'), [], { subject: descriptor }));
    await world.store.delete(revisionKeys.revision(ns, gone.digest));
    const listed = async () => (await world.registry.referrers.list(ns, subject.digest, {})).manifests.map(({ digest }) => digest).sort();
    assert.deepEqual(await listed(), [live.digest, gone.digest].sort());

    assert.equal(done(await world.run(referrersCheck, NS, { now: Date.now() }), 'delete referrer record'), 0, 'inside grace');
    const before = await world.snapshot();
    assert.equal(done(await world.run(referrersCheck, NS, { dryRun: true }), 'delete referrer record'), 1);
    assert.deepEqual(await world.snapshot(), before);

    assert.equal(done(await world.run(referrersCheck, NS), 'delete referrer record'), 1);
    assert.deepEqual(await listed(), [live.digest]);
    assert.equal(await world.has(referrerKeys.record(ns, subject.digest, gone.digest)), false);
    assert.equal(await world.has(refKeys.key(gone.digest, ns, { kind: 'sub', subject: subject.digest })), false);
    assert.equal(await world.has(refKeys.key(live.digest, ns, { kind: 'sub', subject: subject.digest })), true);
  });
});
