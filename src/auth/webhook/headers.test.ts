import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anonymousIdentity, type Identity } from '../../policy/identity.ts';
import { requestVariables } from '../../policy/request-variables.ts';
import { parseReference } from '../../oci/reference.ts';
import type { Digest } from '../../oci/digest.ts';
import type { Namespace } from '../../oci/name.ts';
import { withIncomingRequest } from '../../../test/support/incoming-request.ts';
import { webhookConfig } from '../../../test/support/webhook-server.ts';
import { credentialHeader, UnencodableHeaderError, webhookHeaders, type HeaderList } from './headers.ts';

const WEBHOOK = webhookConfig('http://127.0.0.1:1/allow');
const DIGEST = `sha256:${'a'.repeat(64)}` as Digest;
const ALICE: Identity = {
  ...anonymousIdentity('10.1.2.3'),
  id: 'alice-id',
  username: 'alice',
  certificate: { commonNames: ['build'], organizations: ['Platform', 'Ops'] },
};

function valuesOf(headers: HeaderList, name: string): string[] {
  return headers.filter(([key]) => key.toLowerCase() === name.toLowerCase()).map(([, value]) => value);
}

test('a manifest push carries the forwarded context, the action and the Basic and certificate identity', async () => {
  const request = requestVariables({ action: 'put-manifest', ns: 'team/app' as Namespace, reference: parseReference('v1'), tags: [] });
  const headers = await withIncomingRequest('/v2/team/app/manifests/v1?x=1', { host: 'reg.example:5000' }, (req) =>
    webhookHeaders(WEBHOOK, { req, identity: ALICE, request }), 'PUT');
  assert.deepEqual(
    headers.map(([name, value]) => `${name}: ${value}`),
    [
      'X-Forwarded-Method: PUT',
      'X-Forwarded-Proto: http',
      'X-Forwarded-Host: reg.example:5000',
      'X-Forwarded-Uri: /v2/team/app/manifests/v1?x=1',
      'X-Forwarded-For: 10.1.2.3',
      'X-Registry-Action: put-manifest',
      'X-Registry-Namespace: team/app',
      'X-Registry-Reference: v1',
      'X-Registry-Username: alice',
      'X-Registry-Identity-ID: alice-id',
      'X-Registry-Certificate-CN: build',
      'X-Registry-Certificate-O: Platform',
      'X-Registry-Certificate-O: Ops',
    ],
  );
});

test('blob actions name their digest; namespace-less actions have neither namespace nor reference', async () => {
  const blob = await withIncomingRequest(`/v2/a/blobs/${DIGEST}`, {}, (req) =>
    webhookHeaders(WEBHOOK, { req, identity: anonymousIdentity(), request: requestVariables({ action: 'get-blob', ns: 'a' as Namespace, digest: DIGEST }) }));
  assert.deepEqual(valuesOf(blob, 'X-Registry-Digest'), [DIGEST]);
  assert.deepEqual(valuesOf(blob, 'X-Registry-Reference'), []);
  assert.deepEqual(valuesOf(blob, 'X-Registry-Username'), []);
  assert.deepEqual(valuesOf(blob, 'X-Forwarded-For'), []);
  const root = await withIncomingRequest('/v2/', {}, (req) =>
    webhookHeaders(WEBHOOK, { req, identity: anonymousIdentity(), request: requestVariables({ action: 'get-api-version' }) }));
  assert.deepEqual(valuesOf(root, 'X-Registry-Action'), ['get-api-version']);
  assert.deepEqual(valuesOf(root, 'X-Registry-Namespace'), []);
});

test('an OIDC caller is named by provider and subject', async () => {
  const identity: Identity = { ...anonymousIdentity(), oidc: { providerName: 'gha', providerType: 'GitHub Actions', claims: { sub: 'repo:o/r:ref:main' } } };
  const headers = await withIncomingRequest('/v2/', {}, (req) => webhookHeaders(WEBHOOK, { req, identity, request: requestVariables({ action: 'get-api-version' }) }));
  assert.deepEqual(valuesOf(headers, 'X-Registry-OIDC-Provider'), ['gha']);
  assert.deepEqual(valuesOf(headers, 'X-Registry-OIDC-Subject'), ['repo:o/r:ref:main']);
});

test('forward_headers copy every value the client sent; configured credentials replace a forwarded Authorization', async () => {
  const webhook = { ...WEBHOOK, forwardHeaders: ['x-tenant', 'authorization', 'x-absent'] };
  const sent = { 'X-Tenant': ['a', 'b'], authorization: 'Bearer client-token' };
  const request = requestVariables({ action: 'get-api-version' });
  const forwarded = await withIncomingRequest('/v2/', sent, (req) => webhookHeaders(webhook, { req, identity: anonymousIdentity(), request }));
  assert.deepEqual(valuesOf(forwarded, 'x-tenant'), ['a', 'b']);
  assert.deepEqual(valuesOf(forwarded, 'authorization'), ['Bearer client-token']);
  assert.deepEqual(valuesOf(forwarded, 'x-absent'), []);
  const withCredentials = { ...webhook, credentials: { kind: 'bearer' as const, token: 'tok' } };
  const replaced = await withIncomingRequest('/v2/', sent, (req) => webhookHeaders(withCredentials, { req, identity: anonymousIdentity(), request }));
  assert.deepEqual(valuesOf(replaced, 'authorization'), []);
  assert.equal(credentialHeader(withCredentials), 'Bearer tok');
  assert.equal(credentialHeader({ ...WEBHOOK, credentials: { kind: 'basic', username: 'reg', password: 'p:w' } }), `Basic ${Buffer.from('reg:p:w').toString('base64')}`);
  assert.equal(credentialHeader(WEBHOOK), undefined);
});

test('text travels as UTF-8 bytes; a control character cannot be sent at all', async () => {
  const request = requestVariables({ action: 'get-api-version' });
  const utf8 = await withIncomingRequest('/v2/', {}, (req) =>
    webhookHeaders(WEBHOOK, { req, identity: { ...anonymousIdentity(), username: 'jürgen€' }, request }));
  assert.equal(Buffer.from(valuesOf(utf8, 'X-Registry-Username')[0]!, 'latin1').toString('utf8'), 'jürgen€');
  const broken: Identity = { ...anonymousIdentity(), certificate: { commonNames: ['evil\r\nX-Registry-Username: root'], organizations: [] } };
  await assert.rejects(
    withIncomingRequest('/v2/', {}, (req) => webhookHeaders(WEBHOOK, { req, identity: broken, request })),
    (err: unknown) => err instanceof UnencodableHeaderError && /X-Registry-Certificate-CN/.test(err.message),
  );
});
