// `GET /token` (docs/api.md, "Operational endpoints"): trades the credential this request authenticated with for a
// registry token. Query parameters (`service`, `scope`, `account`) are ignored: the token carries identity only,
// and every later request is still authorized against the live policy.
import { mintRegistryToken } from '../../auth/token-service/registry-token.ts';
import { OciError } from '../../oci/errors.ts';
import type { HttpContext } from '../context.ts';
import { sendJson } from '../respond.ts';

export const TOKEN_NOT_EXCHANGEABLE = 'A registry token cannot be exchanged for another';

export async function getToken({ req, res, config, authentication }: HttpContext): Promise<void> {
  const service = config.auth.tokenService;
  if (service === undefined) throw new OciError('NAME_UNKNOWN', 'the token service is not configured');
  // No renewal: a token must never outlive the credential it was minted from.
  if (authentication.fromRegistryToken) throw new OciError('UNAUTHORIZED', TOKEN_NOT_EXCHANGEABLE);
  const token = await mintRegistryToken(service, authentication.identity, Date.now() / 1000);
  sendJson(req, res, 200, { token, expires_in: service.ttlSecs }, { 'cache-control': 'no-store' });
}
