// `[auth.identity.<id>]` (chapter 02 §3.7, chapter 03 §2.3, §3): Basic-auth users. The rest of `[auth]`
// (OIDC, token service, webhooks) is still kept raw in `later.auth` for the work that implements it.
import { checkArgon2Hash } from './argon2-hash.ts';
import { ConfigValueError, isTable, TableReader } from './table-reader.ts';
import type { AuthConfig, BasicIdentityConfig } from './types.ts';

export function readAuth(root: TableReader): AuthConfig {
  const auth = root.lenientTable('auth');
  const identityTables = auth?.rawTable('identity');
  if (auth === undefined || identityTables === undefined) return { identities: [] };
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
  return { identities };
}
