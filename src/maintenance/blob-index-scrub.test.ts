// `scrub --reconcile-blob-index` on a real filesystem store: every reference key a revision implies comes back,
// only on bytes that exist and digests the namespace already reads.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Link } from '../registry/keys.ts';
import { parseTag } from '../oci/tag.ts';
import { refKeys } from '../registry/keys.ts';
import { reconcileBlobIndexCheck } from './blob-index-scrub.ts';
import { done, imageJson, namespace, RepairWorld, sha256 } from './repair-fixture.ts';

const NS = 'team/app';
const ns = namespace(NS);

describe('scrub --reconcile-blob-index', () => {
  let world: RepairWorld;
  beforeEach(async () => (world = await RepairWorld.open()));
  afterEach(() => world.close());

  it("re-issues a revision's reference keys, granting nothing", async () => {
    const subject = await world.push(NS, imageJson(await world.upload(NS, 'cfg-subject')));
    const layer = await world.upload(NS, 'layer');
    const foreign = await world.upload('other/ns', 'foreign');
    // Granted but never stored: the namespace "reads" it, yet no key goes on missing bytes.
    const byteless = sha256('never stored');
    await world.registry.access.grant(ns, byteless);
    const config = await world.upload(NS, 'config');
    const json = imageJson(config, [layer, foreign], { subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: subject.digest, size: subject.bytes.length } });
    (json.layers as unknown[]).push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: byteless, size: 12 });
    const pushed = await world.push(NS, json, 'latest');
    const key = (digest: typeof pushed.digest, link: Link) => refKeys.key(digest, ns, link);
    const restorable = [
      key(pushed.digest, { kind: 'rev' }),
      key(pushed.digest, { kind: 'tag', tag: parseTag('latest')! }),
      key(pushed.digest, { kind: 'sub', subject: subject.digest }),
      key(layer.digest, { kind: 'manifest', manifest: pushed.digest }),
      key(config.digest, { kind: 'manifest', manifest: pushed.digest }),
    ];
    const byteless_ = key(byteless, { kind: 'manifest', manifest: pushed.digest });
    await world.store.delete(byteless_);
    for (const k of restorable) await world.store.delete(k);

    assert.equal(done(await world.run(reconcileBlobIndexCheck, NS, { now: Date.now() }), 'restore reference key'), 0, 'inside grace');
    const before = await world.snapshot();
    assert.equal(done(await world.run(reconcileBlobIndexCheck, NS, { dryRun: true }), 'restore reference key'), restorable.length);
    assert.deepEqual(await world.snapshot(), before);

    assert.equal(done(await world.run(reconcileBlobIndexCheck, NS), 'restore reference key'), restorable.length);
    for (const k of restorable) assert.equal(await world.has(k), true, k);
    assert.equal(await world.has(key(foreign.digest, { kind: 'manifest', manifest: pushed.digest })), false, 'never held');
    assert.equal(await world.has(byteless_), false, 'no bytes');
    assert.equal(await world.registry.access.canRead(ns, foreign.digest), false);
    assert.equal(done(await world.run(reconcileBlobIndexCheck, NS), 'restore reference key'), 0, 'additive and idempotent');
  });
});
