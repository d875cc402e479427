import type { AccessPolicyConfig, Config } from '../config/types.ts';
import { owningRepository } from '../config/repository-lookup.ts';
import { PUSH_ACTIONS } from './actions.ts';
import { compileRule, type RuleScope } from './cel.ts';
import { identityVariables, type Identity } from './identity.ts';
import type { RequestVariables } from './request-variables.ts';
import { logger } from '../observability/logging.ts';

const log = logger('angos::policy');

/** What the policy decides on: who asks, and the CEL `request` map of what they ask for. */
export interface PolicyInput {
  readonly identity: Identity;
  readonly request: RequestVariables;
}

/** `deniedBy` is for logs: the policy key, or `pull-through`; `reason` is what the client is told. */
export type Decision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string; readonly deniedBy: string };

const ACCESS_DENIED = 'Access denied';

/**
 * Access decisions (docs/api.md, "Request processing"): the global policy always, then the owning repository's when
 * it declares one (both must allow), then the pull-through write guard. Namespace-less actions see the global
 * policy only.
 */
export function decide(config: Config, input: PolicyInput): Decision {
  const variables = { request: input.request, identity: identityVariables(input.identity) };
  const ns = input.request.namespace;
  const repo = ns === undefined ? undefined : owningRepository(config, ns);
  const hasRepositoryPolicy = repo?.accessPolicy !== undefined;
  if (!permits(config.global.accessPolicy, variables, { hasRepositoryPolicy }, 'global.access_policy')) {
    return denied(ACCESS_DENIED, 'global.access_policy', input);
  }
  if (repo?.accessPolicy) {
    const key = `repository."${repo.name}".access_policy`;
    if (!permits(repo.accessPolicy, variables, { hasRepositoryPolicy: true }, key)) return denied(ACCESS_DENIED, key, input);
  }
  if (repo && repo.upstreams.length > 0 && PUSH_ACTIONS.has(input.request.action)) {
    return denied('Push operations are not supported on pull-through cache repositories: they are read-only caches of their upstreams', 'pull-through', input);
  }
  return { allowed: true };
}

/**
 * One policy (docs/configuration.md, `[global.access_policy]`): rules run in order; under `deny` the first true
 * rule grants, under `allow` the first true rule refuses; an error or a non-boolean result denies at once, whatever
 * the default.
 */
function permits(policy: AccessPolicyConfig, variables: Readonly<Record<string, unknown>>, scope: RuleScope, key: string): boolean {
  const grantsOnMatch = policy.default === 'deny';
  for (const [index, source] of policy.rules.entries()) {
    const outcome = compileRule(source).evaluate(variables, scope);
    if (outcome.kind === 'error') {
      // Index and error kind only: the request and identity values may be secrets or personal data.
      log.warn('access policy rule failed to evaluate; request denied', { policy: key, rule: index + 1, error: outcome.error });
      return false;
    }
    if (outcome.value) return grantsOnMatch;
  }
  return !grantsOnMatch;
}

function denied(reason: string, deniedBy: string, input: PolicyInput): Decision {
  log.debug('access denied', { by: deniedBy, action: input.request.action });
  return { allowed: false, reason, deniedBy };
}
