import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anonymousIdentity, identityVariables, isAuthenticated, peerIp } from './identity.ts';

test('the anonymous identity as CEL sees it: scalars null, certificate lists empty, oidc null, client_ip set', () => {
  assert.deepEqual(identityVariables(anonymousIdentity('192.0.2.9')), {
    id: null,
    username: null,
    client_ip: '192.0.2.9',
    certificate: { common_names: [], organizations: [] },
    oidc: null,
  });
});

test('an OIDC identity maps to snake_case keys with the claims untouched', () => {
  const claims = { sub: 'repo:acme/app', groups: ['dev'] };
  const identity = { ...anonymousIdentity(null), oidc: { providerName: 'ci', providerType: 'github', claims } };
  assert.deepEqual(identityVariables(identity).oidc, { provider_name: 'ci', provider_type: 'github', claims });
});

test('any successful method makes the caller authenticated (403 rather than 401 on a denial)', () => {
  const anonymous = anonymousIdentity('127.0.0.1');
  assert.equal(isAuthenticated(anonymous), false);
  assert.equal(isAuthenticated({ ...anonymous, id: 'alice', username: 'alice' }), true);
  assert.equal(isAuthenticated({ ...anonymous, certificate: { commonNames: [], organizations: ['Ops'] } }), true);
  assert.equal(isAuthenticated({ ...anonymous, oidc: { providerName: 'ci', providerType: 'generic', claims: {} } }), true);
});

test('IPv4-mapped IPv6 peers are reported as plain IPv4; others verbatim', () => {
  assert.equal(peerIp('::ffff:10.1.2.3'), '10.1.2.3');
  assert.equal(peerIp('::FFFF:10.1.2.3'), '10.1.2.3');
  assert.equal(peerIp('127.0.0.1'), '127.0.0.1');
  assert.equal(peerIp('2001:db8::1'), '2001:db8::1');
  assert.equal(peerIp('::ffff:abcd'), '::ffff:abcd');
  assert.equal(peerIp(undefined), null);
});
