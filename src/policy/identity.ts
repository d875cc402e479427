// The caller as the access policy sees it (docs/configuration.md, `[global.access_policy]`). Authentication fills
// it; until a method succeeds the caller is anonymous, which the policy still decides on.

export interface Identity {
  /** The `[auth.identity.<id>]` key of a Basic caller. */
  readonly id: string | null;
  readonly username: string | null;
  /** Textual IP of the caller, no port. */
  readonly clientIp: string | null;
  readonly certificate: CertificateIdentity;
  readonly oidc: OidcIdentity | null;
}

export interface CertificateIdentity {
  readonly commonNames: readonly string[];
  readonly organizations: readonly string[];
}

export interface OidcIdentity {
  readonly providerName: string;
  readonly providerType: string;
  /** The token payload; integers must already be `bigint` to be CEL ints. */
  readonly claims: Readonly<Record<string, unknown>>;
}

export function anonymousIdentity(clientIp: string | null = null): Identity {
  return { id: null, username: null, clientIp, certificate: { commonNames: [], organizations: [] }, oidc: null };
}

/** Decides 401 versus 403 on a denial (docs/api.md, "Request processing"): any successful method counts. */
export function isAuthenticated(identity: Identity): boolean {
  const { certificate } = identity;
  return identity.username !== null || identity.id !== null || identity.oidc !== null ||
    certificate.commonNames.length > 0 || certificate.organizations.length > 0;
}

/** The CEL `identity` map: every field present, optional ones as `null`. */
export function identityVariables(identity: Identity): Record<string, unknown> {
  const { oidc } = identity;
  return {
    id: identity.id,
    username: identity.username,
    client_ip: identity.clientIp,
    certificate: { common_names: identity.certificate.commonNames, organizations: identity.certificate.organizations },
    oidc: oidc === null ? null : { provider_name: oidc.providerName, provider_type: oidc.providerType, claims: oidc.claims },
  };
}

/** An IPv4 peer on a dual-stack socket shows as `::ffff:a.b.c.d`; policies compare the plain IPv4 form. */
export function peerIp(address: string | undefined): string | null {
  if (address === undefined) return null;
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address;
}
