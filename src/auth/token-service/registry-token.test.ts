import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { loadConfig } from '../../../test/support/config-validation.ts';
import type { Config } from '../../config/types.ts';
import { OciError } from '../../oci/errors.ts';
import { anonymousIdentity, type Identity } from '../../policy/identity.ts';
import { isRegistryToken, mintRegistryToken, verifyRegistryToken } from './registry-token.ts';

const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(48, 2).toString('base64');
const NOW = Math.floor(Date.now() / 1000);

function config(secretKey: string | undefined, providers = '[auth.oidc.ci]\nissuer = "https://i.example"\n'): Config {
  const service = secretKey === undefined ? '' : `[auth.token_service]\nsecret_key = "${secretKey}"\nttl_secs = 120\n`;
  return loadConfig(providers + service);
}

const oidcCaller: Identity = {
  ...anonymousIdentity('10.0.0.1'),
  certificate: { commonNames: ['build'], organizations: ['Ops'] },
  oidc: { providerName: 'ci', providerType: 'Generic OIDC', claims: { sub: 'build', run: 42n, big: 12345678901234567890n, ratio: 0.5 } },
};

async function refused(cfg: Config, token: string, now = NOW): Promise<void> {
  await assert.rejects(verifyRegistryToken(cfg, token, now), (error: unknown) => error instanceof OciError && error.code === 'UNAUTHORIZED');
}

test('minted tokens carry only exp, id, username and oidc, and restore the identity with integers intact', async () => {
  const cfg = config(KEY_A);
  const basic = await mintRegistryToken(cfg.auth.tokenService!, { ...anonymousIdentity('10.0.0.1'), id: 'alice-id', username: 'alice' }, NOW);
  assert.deepEqual(decodeProtectedHeader(basic), { alg: 'HS256', typ: 'angos+jwt' });
  assert.deepEqual(decodeJwt(basic), { exp: NOW + 120, id: 'alice-id', username: 'alice' });
  assert.deepEqual(await verifyRegistryToken(cfg, basic, NOW), { id: 'alice-id', username: 'alice', oidc: null });

  const fromOidc = await mintRegistryToken(cfg.auth.tokenService!, oidcCaller, NOW);
  assert.deepEqual(Object.keys(decodeJwt(fromOidc)), ['exp', 'oidc'], 'no certificate, no client IP');
  assert.deepEqual(await verifyRegistryToken(cfg, fromOidc, NOW), { id: null, username: null, oidc: oidcCaller.oidc });
});

test('a rotated key, expiry beyond 60 s, a removed provider or no token service reject the token', async () => {
  const cfg = config(KEY_A);
  const token = await mintRegistryToken(cfg.auth.tokenService!, oidcCaller, NOW);
  await refused(config(KEY_B), token);
  await verifyRegistryToken(cfg, token, NOW + 120 + 59);
  await refused(cfg, token, NOW + 120 + 61);
  await refused(config(KEY_A, '[auth.oidc.other]\nissuer = "https://i.example"\n'), token);
  await refused(config(undefined), token);
});

test('only a decodable header with typ angos+jwt and an alg other than none is ours', async () => {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  assert.equal(isRegistryToken(`${part({ alg: 'HS256', typ: 'angos+jwt' })}.${part({})}.x`), true);
  assert.equal(isRegistryToken(`${part({ alg: 'ES256', typ: 'angos+jwt' })}.${part({})}.x`), true);
  assert.equal(isRegistryToken(`${part({ alg: 'none', typ: 'angos+jwt' })}.${part({})}.`), false);
  assert.equal(isRegistryToken(`${part({ alg: 'HS256', typ: 'JWT' })}.${part({})}.x`), false);
  assert.equal(isRegistryToken('not-a-jwt'), false);
  // An `angos+jwt` with another algorithm is ours, and invalid.
  await refused(config(KEY_A), `${part({ alg: 'ES256', typ: 'angos+jwt' })}.${part({ exp: NOW + 60 })}.eA`);
});
