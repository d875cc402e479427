// The two ways an OIDC provider can refuse a token (401, or 503 when it cannot be reached). The message is for the
// logs and names the check that failed; it never contains the token or its claims.

/** The token is not acceptable to this provider: 401. */
export class TokenRejected extends Error {
  override readonly name = 'TokenRejected';
}

/** The provider's discovery document or keys could not be fetched or read: 503, and nothing is cached. */
export class ProviderUnavailable extends Error {
  override readonly name = 'ProviderUnavailable';
}
