import type { Config } from '../config/types.ts';
import { logger } from '../observability/logging.ts';

const log = logger('angos::command::server');

/**
 * Configured features this version accepts but does not act on yet: one warning each at start-up, so an
 * operator is never surprised by a silently ignored section. None of them fails open: an unsupported credential
 * leaves the caller anonymous to the access policy.
 */
export function warnUnsupported(config: Config): void {
  const notices: Array<[boolean, string]> = [
    [config.eventWebhooks.length > 0, '[event_webhook] is not supported yet: no events are delivered'],
    [config.observability.tracing !== undefined, '[observability] is not supported yet: no traces are exported'],
    [config.repositories.some((r) => r.downstreams.length > 0), 'replication downstreams are not supported yet: nothing is replicated'],
    [config.ui.enabled, 'the web UI is not supported yet'],
  ];
  for (const [configured, message] of notices) if (configured) log.warn(message);
}

/**
 * A `required` event webhook is a gate: nothing may be committed unless its delivery succeeds (docs/operations.md,
 * "Start-up"). Delivery is not implemented yet, so rather than commit writes the operator meant to gate, the server
 * does not start. Returns the reason, or undefined.
 */
export function refuseUnsafe(config: Config): string | undefined {
  const gates = config.eventWebhooks.filter((webhook) => webhook.policy === 'required').map((webhook) => webhook.name);
  if (gates.length === 0) return undefined;
  return `event webhooks with policy = "required" are not supported by this version (${gates.join(', ')}); refusing to start rather than commit writes they should gate`;
}
