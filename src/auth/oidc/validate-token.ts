// One provider's verdict on one token (docs/configuration.md, `[auth.oidc.<name>]`). The algorithm is checked
// against the allow-list before anything is fetched, so a token naming a disallowed algorithm costs the issuer
// nothing and cannot steer which verification runs.
import { compactVerify, decodeProtectedHeader, importJWK, type ProtectedHeaderParameters } from 'jose';
import type { Cache } from '../../cache/cache.ts';
import type { OidcProviderConfig } from '../../config/types.ts';
import type { OidcIdentity } from '../../policy/identity.ts';
import { isJsonObject, parseJson } from '../jwt-json.ts';
import { checkClaims } from './claims.ts';
import { TokenRejected } from './failures.ts';
import { findSigningKey } from './key-set.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function protectedHeader(token: string): ProtectedHeaderParameters {
  try {
    return decodeProtectedHeader(token);
  } catch {
    throw new TokenRejected('the token header cannot be decoded');
  }
}

async function verifiedPayload(token: string, jwk: Awaited<ReturnType<typeof findSigningKey>>, alg: string): Promise<Uint8Array> {
  try {
    const key = await importJWK(jwk, alg);
    return (await compactVerify(token, key, { algorithms: [alg] })).payload;
  } catch {
    // A key of the wrong type for `alg`, a bad signature or a malformed token: all the same refusal.
    throw new TokenRejected('the token signature does not verify');
  }
}

function parseClaims(payload: Uint8Array): Record<string, unknown> {
  let claims: unknown;
  try {
    claims = parseJson(utf8.decode(payload));
  } catch {
    throw new TokenRejected('the token payload is not JSON');
  }
  if (!isJsonObject(claims)) throw new TokenRejected('the token payload is not a JSON object');
  return claims;
}

/** The OIDC identity the token proves; throws `TokenRejected` (401) or `ProviderUnavailable` (503). */
export async function validateOidcToken(provider: OidcProviderConfig, token: string, cache: Cache, nowSecs: number): Promise<OidcIdentity> {
  const header = protectedHeader(token);
  const alg = header.alg;
  if (typeof alg !== 'string' || !(provider.allowedAlgorithms as readonly string[]).includes(alg)) {
    throw new TokenRejected('the token algorithm is not allowed');
  }
  if (header.kid !== undefined && typeof header.kid !== 'string') throw new TokenRejected('the token kid is not a string');
  const jwk = await findSigningKey(provider, header.kid, cache);
  const claims = parseClaims(await verifiedPayload(token, jwk, alg));
  checkClaims(provider, claims, nowSecs);
  return { providerName: provider.name, providerType: provider.providerType, claims };
}
