// `bearer_token_file` (docs/configuration.md, `[auth.oidc.<name>]`): a credential some issuers demand on their
// discovery and key endpoints. It is re-read on every fetch so a rotated file (a Kubernetes projected token) needs
// no reload, and it is sent only to the issuer's own origin: a JWKS hosted elsewhere never sees it (and
// ./http-get.ts drops it on a cross-origin redirect).
import { access, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import type { Config, OidcProviderConfig } from '../../config/types.ts';
import { ProviderUnavailable } from './failures.ts';

function origin(url: string): string | undefined {
  return URL.canParse(url) ? new URL(url).origin : undefined;
}

/** The `Authorization` value for a fetch of `url`, or undefined when none is to be sent. */
export async function issuerAuthorization(provider: OidcProviderConfig, url: string): Promise<string | undefined> {
  const file = provider.bearerTokenFile;
  if (file === undefined || origin(url) === undefined || origin(url) !== origin(provider.issuer)) return undefined;
  let token: string;
  try {
    token = (await readFile(file, 'utf8')).trim();
  } catch (error) {
    throw new ProviderUnavailable(`cannot read bearer_token_file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return `Bearer ${token}`;
}

/** At start-up an unreadable file is a configuration error, not a string of 503s. Returns the problem, if any. */
export async function checkBearerTokenFiles(config: Config): Promise<string | undefined> {
  for (const provider of config.auth.oidcProviders) {
    if (provider.bearerTokenFile === undefined) continue;
    try {
      await access(provider.bearerTokenFile, constants.R_OK);
    } catch (error) {
      return `auth.oidc.${provider.name}.bearer_token_file: cannot read '${provider.bearerTokenFile}': ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
    }
  }
  return undefined;
}
