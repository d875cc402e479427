// `[auth]` (docs/configuration.md): `[auth.identity.<id>]` Basic-auth users here, OIDC providers, the token
// service and the authorization webhooks in their own readers.
import { checkArgon2Hash } from './argon2-hash.ts';
import { readOidcProviders } from './oidc-section.ts';
import { ConfigValueError, isTable, type TableReader } from './table-reader.ts';
import { readTokenService } from './token-service-section.ts';
import type { AuthConfig, AuthorizationWebhookConfig, BasicIdentityConfig } from './types.ts';
import { readAuthorizationWebhooks } from './webhook-section.ts';

export interface AuthSection {
  readonly auth: AuthConfig;
  readonly authorizationWebhooks: AuthorizationWebhookConfig[];
}

export function readAuth(root: TableReader): AuthSection {
  const auth = root.table('auth');
  const oidcProviders = readOidcProviders(auth?.table('oidc'));
  const tokenService = readTokenService(auth?.table('token_service'));
  const identities = readIdentities(auth);
  const authorizationWebhooks = readAuthorizationWebhooks(auth?.table('webhook'));
  auth?.finish();
  return { auth: { identities, oidcProviders, tokenService }, authorizationWebhooks };
}

function readIdentities(auth: TableReader | undefined): BasicIdentityConfig[] {
  const section = auth?.table('identity');
  if (auth === undefined || section === undefined) return [];
  const oidc = auth.raw('oidc');
  const providerNames = new Set(isTable(oidc) ? Object.keys(oidc) : []);

  const owners = new Map<string, string>();
  const identities = section.keys().map((id): BasicIdentityConfig => {
    const entry = section.table(id)!;
    const username = entry.requiredString('username');
    const passwordHash = entry.requiredString('password', { secret: true });
    entry.finish();
    if (owners.has(username)) {
      throw new ConfigValueError(`${entry.pathOf('username')}: duplicate basic-auth username '${username}' across [auth.identity] entries (also in '${owners.get(username)}')`);
    }
    owners.set(username, id);
    // Such a user could never log in: a Basic username naming a provider is an OIDC login (docs/api.md,
    // "Request processing").
    if (providerNames.has(username)) {
      throw new ConfigValueError(`${entry.pathOf('username')}: basic-auth username '${username}' is also an OIDC provider name`);
    }
    try {
      checkArgon2Hash(passwordHash);
    } catch (error) {
      throw new ConfigValueError(`${entry.pathOf('password')}: invalid Argon2 password hash: ${(error as Error).message}`);
    }
    return { id, username, passwordHash };
  });
  return identities;
}
