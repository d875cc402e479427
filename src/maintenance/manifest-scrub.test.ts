// `scrub --manifests` on a real filesystem store: what a push writes beside a revision record is restored, the
// catalog key too, and superseded by-digest pulls are collected; nothing inside grace, nothing in a dry run.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { accessKeys, blobKeys, catalogKeys, ordOf, refKeys, referrerKeys } from '../registry/keys.ts';
import { manifestsCheck } from './manifest-scrub.ts';
import { done, namespace, RepairWorld } from './repair-fixture.ts';

const NS = 'team/app';
const ns = namespace(NS);
const HOUR = 3_600_000;
const image = (label: string) => ({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: [], annotations: { label } });

describe('scrub --manifests', () => {
  let world: RepairWorld;
  beforeEach(async () => (world = await RepairWorld.open()));
  afterEach(() => world.close());

  it('restores the rev key, the subject key, the referrer record and the catalog key', async () => {
    const subject = await world.push(NS, image('subject'), 'v1');
    const signature = await world.push(NS, { ...image('sig'), artifactType: 'application/vnd.test.sig', subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: subject.digest, size: subject.bytes.length } });
    const removed = [
      refKeys.key(subject.digest, ns, { kind: 'rev' }),
      refKeys.key(signature.digest, ns, { kind: 'sub', subject: subject.digest }),
      referrerKeys.record(ns, subject.digest, signature.digest),
      catalogKeys.entry(ns),
    ];
    const listed = await world.registry.referrers.list(ns, subject.digest, {});
    for (const key of removed) await world.store.delete(key);
    assert.deepEqual((await world.registry.referrers.list(ns, subject.digest, {})).manifests, []);

    assert.equal((await world.run(manifestsCheck, NS, { now: Date.now() })).done.size, 0, 'inside grace');
    const before = await world.snapshot();
    const dry = await world.run(manifestsCheck, NS, { dryRun: true });
    assert.deepEqual([done(dry, 'restore reference key'), done(dry, 'restore referrer record'), done(dry, 'restore catalog key')], [2, 1, 1]);
    assert.deepEqual(await world.snapshot(), before, 'a dry run changes nothing');

    const real = await world.run(manifestsCheck, NS);
    assert.deepEqual([done(real, 'restore reference key'), done(real, 'restore referrer record'), done(real, 'restore catalog key')], [2, 1, 1]);
    for (const key of removed) assert.equal(await world.has(key), true, key);
    assert.deepEqual(await world.registry.referrers.list(ns, subject.digest, {}), listed, 'the referrers API lists it as pushed');
    assert.equal((await world.run(manifestsCheck, NS)).done.size, 0, 'nothing left to do');
  });

  it('reports a revision whose body is missing and changes nothing', async () => {
    const pushed = await world.push(NS, image('lost'), 'v1');
    await world.store.delete(blobKeys.data(pushed.digest));
    await world.store.delete(refKeys.key(pushed.digest, ns, { kind: 'rev' }));
    const before = await world.snapshot();
    assert.equal((await world.run(manifestsCheck, NS)).done.size, 0);
    assert.deepEqual(await world.snapshot(), before);
  });

  it('keeps the newest by-digest pull of a revision and those inside the audit window', async () => {
    const pushed = await world.push(NS, image('pulled'));
    const target = { kind: 'revision', digest: pushed.digest } as const;
    const now = Date.now();
    const entry = (at: number) => ({ ord: ordOf(at), clientHash: '0123abcd' });
    for (const at of [now - 10 * 60_000, now - 2 * HOUR, now - 3 * HOUR]) {
      await world.registry.metadata.writes.recordPull(ns, target, entry(at), { client: 'ci', at: new Date(at).toISOString() });
    }
    const counts = await world.run(manifestsCheck, NS, { now });
    assert.equal(done(counts, 'delete superseded pull record'), 2);
    assert.equal(await world.has(accessKeys.entry(ns, target, entry(now - 10 * 60_000))), true);
    assert.equal(await world.has(accessKeys.entry(ns, target, entry(now - 2 * HOUR))), false);
  });
});
