import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OidcProviderConfig } from '../../config/types.ts';
import { checkClaims } from './claims.ts';
import { TokenRejected } from './failures.ts';

const provider: OidcProviderConfig = {
  name: 'ci',
  provider: 'generic',
  providerType: 'Generic OIDC',
  issuer: 'https://issuer.example',
  jwksUri: undefined,
  jwksRefreshIntervalSecs: 3600,
  requiredAudience: 'reg',
  clockSkewToleranceSecs: 60,
  allowedAlgorithms: ['RS256'],
  requiredClaims: ['email'],
  httpRequestTimeoutSecs: 30,
  jwksRefreshTimeoutSecs: 5,
  bearerTokenFile: undefined,
  serverCaBundle: undefined,
  clientCertificateBundle: undefined,
  clientPrivateKey: undefined,
};
const NOW = 1_000_000;
const valid = { iss: provider.issuer, aud: 'reg', exp: BigInt(NOW + 10), email: 'a@example.com' };

function rejected(claims: Record<string, unknown>, reason: RegExp, config: OidcProviderConfig = provider): void {
  assert.throws(() => checkClaims(config, claims, NOW), (error: unknown) => error instanceof TokenRejected && reason.test(error.message));
}

test('a token inside the skew window passes; exp and nbf have exactly the configured leeway', () => {
  checkClaims(provider, valid, NOW);
  checkClaims(provider, { ...valid, exp: BigInt(NOW - 60) }, NOW);
  checkClaims(provider, { ...valid, nbf: BigInt(NOW + 60), iat: 'ignored' }, NOW);
  rejected({ ...valid, exp: BigInt(NOW - 61) }, /expired/);
  rejected({ ...valid, nbf: BigInt(NOW + 61) }, /nbf/);
  rejected({ ...valid, exp: undefined }, /exp is missing/);
  rejected({ ...valid, exp: 'soon' }, /exp is missing/);
  rejected({ ...valid, nbf: 'later' }, /nbf/);
});

test('iss must match exactly and aud must contain the required audience', () => {
  rejected({ ...valid, iss: `${provider.issuer}/` }, /iss/);
  checkClaims(provider, { ...valid, aud: ['x', 'reg'] }, NOW);
  rejected({ ...valid, aud: 'x' }, /aud/);
  rejected({ ...valid, aud: undefined }, /aud/);
  // Without a required audience `aud` is not looked at.
  checkClaims({ ...provider, requiredAudience: undefined }, { ...valid, aud: 'anything' }, NOW);
});

test('required claims must be present and non-null', () => {
  rejected({ ...valid, email: null }, /required claim 'email'/);
  rejected({ ...valid, email: undefined }, /required claim 'email'/);
  checkClaims(provider, { ...valid, email: '' }, NOW);
});
