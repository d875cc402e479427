// The claim checks (`iss`, `aud`, `exp`/`nbf` with the clock skew, `required_claims`), on a payload whose signature
// is already verified. `iat` is deliberately not looked at.
import type { OidcProviderConfig } from '../../config/types.ts';
import { numericClaim } from '../jwt-json.ts';
import { TokenRejected } from './failures.ts';

export function checkClaims(provider: OidcProviderConfig, claims: Readonly<Record<string, unknown>>, nowSecs: number): void {
  const skew = provider.clockSkewToleranceSecs;
  if (claims.iss !== provider.issuer) throw new TokenRejected('iss does not match the issuer');
  const audience = provider.requiredAudience;
  if (audience !== undefined) {
    const aud = claims.aud;
    const matches = typeof aud === 'string' ? aud === audience : Array.isArray(aud) && aud.includes(audience);
    if (!matches) throw new TokenRejected('aud does not contain the required audience');
  }
  const exp = numericClaim(claims.exp);
  if (exp === undefined) throw new TokenRejected('exp is missing or not a number');
  if (exp < nowSecs - skew) throw new TokenRejected('the token has expired');
  if (claims.nbf !== undefined) {
    const nbf = numericClaim(claims.nbf);
    if (nbf === undefined) throw new TokenRejected('nbf is not a number');
    if (nbf > nowSecs + skew) throw new TokenRejected('the token is not valid yet (nbf)');
  }
  for (const claim of provider.requiredClaims) {
    if (claims[claim] === undefined || claims[claim] === null) throw new TokenRejected(`required claim '${claim}' is missing`);
  }
}
