// Write-once immutable tags, refused with DENIED (docs/api.md, "Immutable tags").
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorMessage, expectEmpty, expectError, expectStatus, header } from '../support/expect.ts';
import { imageManifest, type Manifest } from '../support/oci.ts';
import { deleteManifest, getManifest, pushManifest, putManifest } from '../support/registry.ts';
import { useServer } from '../support/registry-server.ts';

const N = 'test/app';

describe('immutable_tags = true with exclusion ^latest$', () => {
  const srv = useServer({ global: { immutable_tags: true, immutable_tags_exclusions: ['^latest$'] } });

  async function expectTagAt(name: string, tag: string, manifest: Manifest): Promise<void> {
    const read = await getManifest(srv.url, name, tag);
    expectStatus(read, 200);
    assert.equal(header(read, 'docker-content-digest'), manifest.digest);
  }

  function expectImmutable(response: Parameters<typeof expectError>[0], tag: string): void {
    expectError(response, 409, 'DENIED');
    assert.equal(errorMessage(response), `Tag '${tag}' is immutable and cannot be overwritten`);
  }

  it('first push 201, same bytes 201, other bytes 409 DENIED and the tag does not move', async () => {
    const first = imageManifest();
    const other = imageManifest();
    await pushManifest(srv.url, N, 'v1', first);
    expectEmpty(await putManifest(srv.url, N, 'v1', first), 201);
    expectImmutable(await putManifest(srv.url, N, 'v1', other), 'v1');
    await expectTagAt(N, 'v1', first);
    expectError(await getManifest(srv.url, N, other.digest), 404, 'MANIFEST_UNKNOWN');
  });

  it('immutability is checked before the body is parsed: garbage moving v1 → 409', async () => {
    const first = imageManifest();
    await pushManifest(srv.url, 'imm/order', 'v1', first);
    expectImmutable(await putManifest(srv.url, 'imm/order', 'v1', first, { body: '{not json' }), 'v1');
    await expectTagAt('imm/order', 'v1', first);
  });

  it('an excluded tag (latest) stays mutable', async () => {
    const first = imageManifest();
    const second = imageManifest();
    await pushManifest(srv.url, N, 'latest', first);
    await pushManifest(srv.url, N, 'latest', second);
    await expectTagAt(N, 'latest', second);
  });

  it('the anchored exclusion does not cover latest-rc', async () => {
    await pushManifest(srv.url, N, 'latest-rc', imageManifest());
    expectImmutable(await putManifest(srv.url, N, 'latest-rc', imageManifest()), 'latest-rc');
  });

  it('?tag=v1 moving it → 409 DENIED; the same digest via ?tag= → 201', async () => {
    const first = imageManifest();
    const other = imageManifest();
    await pushManifest(srv.url, 'imm/q', 'v1', first);
    expectImmutable(await putManifest(srv.url, 'imm/q', other.digest, other, { query: '?tag=v1' }), 'v1');
    await expectTagAt('imm/q', 'v1', first);

    const same = await putManifest(srv.url, 'imm/q', first.digest, first, { query: '?tag=v1&tag=v2' });
    expectEmpty(same, 201);
    assert.equal(header(same, 'oci-tag'), 'v1, v2');
    await expectTagAt('imm/q', 'v2', first);
  });

  it('one protected tag in ?tag= refuses the whole push', async () => {
    const first = imageManifest();
    const other = imageManifest();
    await pushManifest(srv.url, 'imm/all', 'fixed', first);
    expectImmutable(await putManifest(srv.url, 'imm/all', other.digest, other, { query: '?tag=fresh&tag=fixed' }), 'fixed');
    expectError(await getManifest(srv.url, 'imm/all', 'fresh'), 404, 'MANIFEST_UNKNOWN');
  });

  it('by-digest pushes without tags are not restricted', async () => {
    const manifest = imageManifest();
    expectEmpty(await putManifest(srv.url, 'imm/digest', manifest.digest, manifest), 201);
    expectEmpty(await putManifest(srv.url, 'imm/digest', manifest.digest, manifest), 201);
  });

  it('deleting is not restricted, and the absent tag can be created again', async () => {
    const first = imageManifest();
    const second = imageManifest();
    await pushManifest(srv.url, 'imm/del', 'v1', first);
    expectEmpty(await deleteManifest(srv.url, 'imm/del', 'v1'), 202);
    expectError(await getManifest(srv.url, 'imm/del', 'v1'), 404, 'MANIFEST_UNKNOWN');
    await pushManifest(srv.url, 'imm/del', 'v1', second);
    await expectTagAt('imm/del', 'v1', second);
  });

  it('the same tag name is independent per namespace', async () => {
    const first = imageManifest();
    const second = imageManifest();
    await pushManifest(srv.url, 'imm/one', 'v9', first);
    await pushManifest(srv.url, 'imm/two', 'v9', second);
    await expectTagAt('imm/one', 'v9', first);
    await expectTagAt('imm/two', 'v9', second);
  });
});
