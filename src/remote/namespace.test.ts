import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapNamespace } from './namespace.ts';

describe('mapNamespace (spec §2.2, §5.2)', () => {
  it('upstream, bare host: the key is dropped, the key alone stays itself', () => {
    assert.equal(mapNamespace('upstream', undefined, 'docker-io', 'docker-io/library/nginx'), 'library/nginx');
    assert.equal(mapNamespace('upstream', undefined, 'docker-io', 'docker-io'), 'docker-io');
  });

  it('a url path replaces the key, for both roles', () => {
    for (const role of ['upstream', 'downstream'] as const) {
      assert.equal(mapNamespace(role, 'acme', 'ghcr', 'ghcr/app'), 'acme/app');
      assert.equal(mapNamespace(role, 'acme/team', 'ghcr', 'ghcr'), 'acme/team');
      assert.equal(mapNamespace(role, 'acme', 'mirror', 'mirror/app/x'), 'acme/app/x');
    }
  });

  it('downstream, bare host: the namespace verbatim', () => {
    assert.equal(mapNamespace('downstream', undefined, 'team', 'team/app'), 'team/app');
    assert.equal(mapNamespace('downstream', undefined, 'team', 'team'), 'team');
  });

  it('refuses a namespace outside the repository, and results that are no namespace', () => {
    assert.throws(() => mapNamespace('upstream', undefined, 'docker-io', 'docker-iox/a'), /does not belong/);
    assert.throws(() => mapNamespace('upstream', undefined, 'docker-io', 'other'), /does not belong/);
    assert.throws(() => mapNamespace('upstream', 'p'.repeat(200), 'k', `k/${'a'.repeat(100)}`), /not a valid namespace/);
  });
});
