// Webhook authorization (docs/configuration.md, `[auth.webhook.<name>]`): the last step of authorization, after
// both policy levels and the pull-through guard allowed. Decisions are cached by the forwarded context; an
// unreachable or undecided webhook denies and is asked again next time.
import type { Cache } from '../../cache/cache.ts';
import { owningRepository } from '../../config/repository-lookup.ts';
import type { AuthorizationWebhookConfig, Config } from '../../config/types.ts';
import { OciError } from '../../oci/errors.ts';
import { logger } from '../../observability/logging.ts';
import { webhookAuthorizationDurationSeconds, webhookAuthorizationRequestsTotal } from '../../observability/metrics.ts';
import type { Decision } from '../../policy/access-policy.ts';
import { decisionCacheKey } from './cache-key.ts';
import { callWebhook } from './client.ts';
import { UnencodableHeaderError, webhookHeaders, type HeaderList, type WebhookSubject } from './headers.ts';

const log = logger('angos::auth::webhook');

const ALLOWED: Decision = { allowed: true };

/**
 * The webhook that decides: the repository's own webhook, none when it opts out with `""`, else the global one
 * (also for namespace-less actions and namespaces outside every repository).
 */
export function selectWebhook(config: Config, namespace: string | undefined): AuthorizationWebhookConfig | undefined {
  const repository = namespace === undefined ? undefined : owningRepository(config, namespace);
  const name = repository?.authorizationWebhook ?? config.global.authorizationWebhook;
  if (name === undefined || name === '') return undefined;
  return config.authorizationWebhooks.find((webhook) => webhook.name === name);
}

/** The webhook's decision on one request; throws a 500 when its headers cannot be encoded (nothing is sent). */
export async function authorizeByWebhook(config: Config, cache: Cache, subject: WebhookSubject): Promise<Decision> {
  const webhook = selectWebhook(config, subject.request.namespace);
  if (webhook === undefined) return ALLOWED;
  const deniedBy = `auth.webhook.${webhook.name}`;
  let headers: HeaderList;
  try {
    headers = webhookHeaders(webhook, subject);
  } catch (err) {
    if (!(err instanceof UnencodableHeaderError)) throw err;
    log.error('authorization webhook not called: a header value cannot be encoded', { webhook: webhook.name, error: err.message });
    throw new OciError('INTERNAL_ERROR', err.message);
  }
  const caching = webhook.cacheTtlSecs > 0;
  const key = decisionCacheKey(webhook.name, headers);
  const cached = caching ? await readDecision(cache, key, webhook.name) : undefined;
  if (cached !== undefined) {
    webhookAuthorizationRequestsTotal.inc({ webhook: webhook.name, result: cached === 'allow' ? 'cached_allow' : 'cached_deny' });
    return cached === 'allow' ? ALLOWED : { allowed: false, reason: 'Access denied', deniedBy };
  }

  const stopTimer = webhookAuthorizationDurationSeconds.startTimer({ webhook: webhook.name });
  const outcome = await callWebhook(webhook, headers);
  stopTimer();
  webhookAuthorizationRequestsTotal.inc({ webhook: webhook.name, result: outcome.result });
  if (outcome.result === 'transport_error') {
    log.warn('authorization webhook unreachable; request denied', { webhook: webhook.name, error: outcome.error });
  } else if (outcome.result === 'unavailable') {
    log.warn('authorization webhook gave no decision; request denied', { webhook: webhook.name, status: outcome.status });
  } else if (caching) {
    // Only real decisions are cached: an outage must not outlive itself as a stored denial.
    await cache.set(key, outcome.result, webhook.cacheTtlSecs).catch((err: unknown) => {
      // Debug only: the cache itself reports an outage once, and this would repeat it on every request.
      log.debug('authorization webhook decision not cached', { webhook: webhook.name, error: String(err) });
    });
  }
  return outcome.result === 'allow' ? ALLOWED : { allowed: false, reason: 'Access denied', deniedBy };
}

/** A cache that cannot be read is a miss: the webhook is asked instead. */
async function readDecision(cache: Cache, key: string, webhook: string): Promise<'allow' | 'deny' | undefined> {
  try {
    const value = await cache.get(key);
    return value === 'allow' || value === 'deny' ? value : undefined;
  } catch (err) {
    log.debug('authorization decision cache unreadable; calling the webhook', { webhook, error: String(err) });
    return undefined;
  }
}
