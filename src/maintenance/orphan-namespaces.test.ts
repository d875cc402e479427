// `scrub --orphan-namespaces` on a real filesystem store: a namespace no repository owns is emptied (revisions with
// index children and referrers, tags, grants) once past grace, and only the bytes no other namespace holds go.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { parse } from 'smol-toml';
import type { TomlTableValue } from '../config/table-reader.ts';
import type { Config } from '../config/types.ts';
import { validateConfig } from '../config/validate.ts';
import { OCI_INDEX } from '../oci/media-type.ts';
import { parseTag } from '../oci/tag.ts';
import { blobKeys, refKeys, revisionKeys } from '../registry/keys.ts';
import { Actions, type ActionCounts } from './actions.ts';
import { blobsCheck } from './blob-scrub.ts';
import type { MaintenanceContext } from './context.ts';
import { orphanNamespacesCheck } from './orphan-namespaces.ts';
import { done, GRACE_MS, imageJson, namespace, RepairWorld, type Pushed } from './repair-fixture.ts';
import type { StoreCheck } from './scrub.ts';

const OLD = namespace('old/app');
const TEAM = namespace('team/app');

describe('scrub --orphan-namespaces', () => {
  let world: RepairWorld;
  beforeEach(async () => (world = await RepairWorld.open()));
  afterEach(() => world.close());

  function configWith(repositories: string): Config {
    const text = `[server]\nbind_address = "127.0.0.1"\nport = 0\n[blob_store.fs]\nroot_dir = ${JSON.stringify(world.root)}\n[global]\ngc_grace_secs = ${GRACE_MS / 1000}\n${repositories}`;
    return validateConfig(parse(text, { integersAsBigInt: true }) as TomlTableValue);
  }

  /** Runs a store check as scrub does, at `now` (default: past grace for everything written so far). */
  async function run(check: StoreCheck, config: Config, options: { dryRun?: boolean; now?: number } = {}): Promise<ActionCounts> {
    const actions = new Actions(options.dryRun ?? false);
    const now = options.now ?? Date.now() + 2 * GRACE_MS;
    const context: MaintenanceContext = { config, blobStore: world.store, metaStore: world.store, registry: world.registry, actions, graceMs: GRACE_MS, now: () => now };
    await check.run(context, {} as never);
    return actions.counts();
  }

  /** old/app: an image (own layer, layer shared with team/app) tagged v1, an index over a child, a referrer of the image. */
  async function populate(): Promise<Record<'config' | 'own' | 'shared' | 'image' | 'child' | 'index' | 'referrer', Pushed>> {
    const config = await world.upload('old/app', 'old config');
    const own = await world.upload('old/app', 'only old/app uses this layer');
    const shared = await world.upload('old/app', 'shared layer');
    await world.upload('team/app', 'shared layer');
    await world.push('team/app', imageJson(await world.upload('team/app', 'team config'), [shared]), 'v1');
    const image = await world.push('old/app', imageJson(config, [own, shared]), 'v1');
    const child = await world.push('old/app', imageJson(config, [own], { annotations: { platform: 'arm64' } }));
    const descriptor = (item: Pushed) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: item.digest, size: item.bytes.length });
    const index = await world.push('old/app', { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [descriptor(child)] }, 'multi', OCI_INDEX);
    const referrer = await world.push('old/app', imageJson(config, [], { artifactType: 'application/x-signature', subject: descriptor(image) }));
    return { config, own, shared, image, child, index, referrer };
  }

  it('with no repository configured deletes nothing', async () => {
    await populate();
    const before = await world.snapshot();
    const counts = await run(orphanNamespacesCheck, configWith(''));
    assert.equal(counts.done.size, 0);
    assert.deepEqual(await world.snapshot(), before);
  });

  it('empties a namespace no repository owns, past grace, and reclaims only the bytes no one else holds', async () => {
    const pushed = await populate();
    const config = configWith('[repository."team"]\n');
    const revisions = [pushed.image, pushed.child, pushed.index, pushed.referrer];

    assert.equal((await run(orphanNamespacesCheck, config, { now: Date.now() })).done.size, 0, 'inside grace nothing is touched');
    const before = await world.snapshot();
    const preview = await run(orphanNamespacesCheck, config, { dryRun: true });
    assert.equal(done(preview, 'delete revision'), revisions.length);
    assert.equal(done(preview, 'delete tag'), 0, 'tags go with their revisions, so none is listed twice');
    assert.deepEqual(await world.snapshot(), before, 'a dry run changes nothing');

    const counts = await run(orphanNamespacesCheck, config);
    assert.equal(done(counts, 'delete revision'), revisions.length);
    assert.equal(done(counts, 'revoke blob-ownership grant'), 3);
    assert.equal(done(counts, 'delete orphan blob'), 2, 'the own layer and the config');
    for (const { digest } of revisions) assert.equal(await world.has(revisionKeys.revision(OLD, digest)), false);
    assert.deepEqual(await world.registry.metadata.fresh.liveTags(OLD, undefined, 10), []);
    assert.equal((await world.registry.metadata.fresh.tagWinner(OLD, parseTag('multi')!))?.action, 'del');
    assert.deepEqual(await world.registry.metadata.fresh.referrers(OLD, pushed.image.digest), []);
    for (const gone of [pushed.own, pushed.config]) assert.equal(await world.has(blobKeys.data(gone.digest)), false);
    assert.equal(await world.has(refKeys.key(pushed.shared.digest, OLD, { kind: 'own' })), false, 'the shared grant of old/app is revoked');
    assert.equal(await world.registry.access.canRead(TEAM, pushed.shared.digest), true, 'team/app still reads the shared layer');
    for (const { digest } of revisions) assert.equal(await world.has(blobKeys.data(digest)), true, 'manifest bytes carry no grant: -b frees them');

    assert.equal((await run(orphanNamespacesCheck, config)).done.size, 0, 'a second run finds nothing');
    await run(blobsCheck, config);
    for (const { digest } of revisions) assert.equal(await world.has(blobKeys.data(digest)), false);
    assert.equal(await world.has(blobKeys.data(pushed.shared.digest)), true);
  });
});
