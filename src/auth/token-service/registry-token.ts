// Registry tokens (docs/configuration.md, `[auth.token_service]`): an HS256 JWT of type `angos+jwt` that freezes
// who the caller was when it was minted. Only identity is frozen; policies and webhooks still run on live
// configuration for every request.
import { CompactSign, compactVerify, decodeProtectedHeader, type ProtectedHeaderParameters } from 'jose';
import type { Config, TokenServiceConfig } from '../../config/types.ts';
import { OciError } from '../../oci/errors.ts';
import type { Identity, OidcIdentity } from '../../policy/identity.ts';
import { isJsonObject, numericClaim, parseJson, stringifyJson } from '../jwt-json.ts';

export const TOKEN_TYPE = 'angos+jwt';
export const INVALID_REGISTRY_TOKEN = 'Invalid registry token';

// The leeway on `exp`: fixed, not configurable like the OIDC providers' clock skew.
const EXPIRY_LEEWAY_SECS = 60;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function secretKey(service: TokenServiceConfig): Uint8Array {
  return Buffer.from(service.secretKey, 'base64');
}

/**
 * A token for `identity`, valid `ttlSecs`. The payload is exactly `exp`, `id`, `username` and `oidc`, nulls
 * omitted: never the certificate or the client IP, which always come from the live request.
 */
export async function mintRegistryToken(service: TokenServiceConfig, identity: Identity, nowSecs: number): Promise<string> {
  const payload: Record<string, unknown> = { exp: Math.floor(nowSecs) + service.ttlSecs };
  if (identity.id !== null) payload.id = identity.id;
  if (identity.username !== null) payload.username = identity.username;
  const { oidc } = identity;
  if (oidc !== null) payload.oidc = { provider_name: oidc.providerName, provider_type: oidc.providerType, claims: oidc.claims };
  return new CompactSign(new TextEncoder().encode(stringifyJson(payload)))
    .setProtectedHeader({ alg: 'HS256', typ: TOKEN_TYPE })
    .sign(secretKey(service));
}

/** The identity a registry token carries: certificate and client IP are filled from the request by the caller. */
export interface TokenIdentity {
  readonly id: string | null;
  readonly username: string | null;
  readonly oidc: OidcIdentity | null;
}

function headerOf(token: string): ProtectedHeaderParameters | undefined {
  try {
    return decodeProtectedHeader(token);
  } catch {
    return undefined;
  }
}

/** Whether a Bearer token claims to be ours; anything else goes on to the OIDC providers. */
export function isRegistryToken(token: string): boolean {
  const header = headerOf(token);
  return header !== undefined && header.alg !== 'none' && header.typ === TOKEN_TYPE;
}

function reject(): never {
  throw new OciError('UNAUTHORIZED', INVALID_REGISTRY_TOKEN);
}

async function verifiedPayload(service: TokenServiceConfig, token: string): Promise<Record<string, unknown>> {
  let payload: unknown;
  try {
    const verified = await compactVerify(token, secretKey(service), { algorithms: ['HS256'] });
    payload = parseJson(utf8.decode(verified.payload));
  } catch {
    return reject();
  }
  return isJsonObject(payload) ? payload : reject();
}

function optionalString(value: unknown): string | null {
  if (value === undefined) return null;
  return typeof value === 'string' ? value : reject();
}

function restoreOidc(config: Config, value: unknown): OidcIdentity | null {
  if (value === undefined) return null;
  if (!isJsonObject(value) || typeof value.provider_name !== 'string' || !isJsonObject(value.claims)) return reject();
  const provider = config.auth.oidcProviders.find((candidate) => candidate.name === value.provider_name);
  // Removing a provider revokes every token minted from its logins.
  if (provider === undefined) return reject();
  return { providerName: provider.name, providerType: provider.providerType, claims: value.claims };
}

/**
 * The identity of a registry token (the chain's first step after mTLS). Call only when `isRegistryToken` holds;
 * throws 401 for a token that is ours but not valid: wrong algorithm, signature (another or rotated key), expired,
 * or minted from a provider no longer configured. Without a token service every such token is invalid.
 */
export async function verifyRegistryToken(config: Config, token: string, nowSecs: number): Promise<TokenIdentity> {
  const service = config.auth.tokenService;
  if (service === undefined || headerOf(token)?.alg !== 'HS256') return reject();
  const payload = await verifiedPayload(service, token);
  const exp = numericClaim(payload.exp);
  if (exp === undefined || exp < nowSecs - EXPIRY_LEEWAY_SECS) return reject();
  return { id: optionalString(payload.id), username: optionalString(payload.username), oidc: restoreOidc(config, payload.oidc) };
}
