// `[auth]` (chapter 02 §3.7): `[auth.identity.<id>]` Basic-auth users (chapter 03 §2.3, §3) here, OIDC providers
// and the token service in their own readers. Webhooks are still kept raw in `later.auth`.
import { checkArgon2Hash } from './argon2-hash.ts';
import { readOidcProviders } from './oidc-section.ts';
import { ConfigValueError, isTable, TableReader } from './table-reader.ts';
import { readTokenService } from './token-service-section.ts';
import type { AuthConfig, BasicIdentityConfig } from './types.ts';

export function readAuth(root: TableReader): AuthConfig {
  const auth = root.lenientTable('auth');
  // Validated in full, so their unknown keys are reported like the identities' are.
  const reported = (key: string) => {
    const table = auth?.rawTable(key);
    return table === undefined ? undefined : new TableReader(table, auth!.pathOf(key), root.context);
  };
  const oidcProviders = readOidcProviders(reported('oidc'));
  const tokenService = readTokenService(reported('token_service'));
  return { identities: readIdentities(root, auth), oidcProviders, tokenService };
}

function readIdentities(root: TableReader, auth: TableReader | undefined): BasicIdentityConfig[] {
  const identityTables = auth?.rawTable('identity');
  if (auth === undefined || identityTables === undefined) return [];
  const oidc = auth.raw('oidc');
  const providerNames = new Set(isTable(oidc) ? Object.keys(oidc) : []);
  // Unlike the rest of `[auth]`, identities are validated in full, so their unknown keys are reported.
  const section = new TableReader(identityTables, auth.pathOf('identity'), root.context);

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
    // Such a user could never log in: a Basic username naming a provider is an OIDC login (chapter 03 §2.3).
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
