// Basic credentials against `[auth.identity.<id>]` (docs/configuration.md).
import { verify } from 'argon2';
import type { BasicIdentityConfig } from '../config/types.ts';
import { logger } from '../observability/logging.ts';
import { VerificationCache } from './verification-cache.ts';

const log = logger('angos::auth::basic');

// A hash of a random password with the parameters `angos argon` uses: unknown usernames are checked against it
// so a miss costs the same Argon2 work as a real check and timing does not reveal which usernames exist.
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$5IDMaBcdCO7zv/DYXTfq0g$Gn/misBQ/dfFP88dPmxCJfA3EHT8YJEJwQYIfh7J6dI';

const cache = new VerificationCache({ ttlMs: 60_000, maxEntries: 1024 });

/**
 * The identity whose username and password match, or undefined (unknown user, wrong password, or no identities
 * configured). Usernames compare exactly, case-sensitively.
 */
export async function verifyBasic(
  identities: readonly BasicIdentityConfig[],
  username: string,
  password: string,
): Promise<BasicIdentityConfig | undefined> {
  const identity = identities.find((candidate) => candidate.username === username);
  if (identity === undefined) {
    await argon2Matches(DUMMY_HASH, password);
    return undefined;
  }
  const ok = await cache.verify(username, password, identity.passwordHash, () => argon2Matches(identity.passwordHash, password));
  return ok ? identity : undefined;
}

async function argon2Matches(phc: string, password: string): Promise<boolean> {
  try {
    return await verify(phc, password);
  } catch (error) {
    // Hashes are checked at load, so this is a binding fault; failing the login is the closed side.
    log.error('argon2 verification failed', { error: (error as Error).message });
    return false;
  }
}
