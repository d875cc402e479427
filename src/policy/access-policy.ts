import type { AccessPolicyConfig, Config } from '../config/types.ts';
import { owningRepository } from '../config/repository-lookup.ts';
import type { Action } from './actions.ts';
import { PUSH_ACTIONS } from './actions.ts';
import { logger } from '../observability/logging.ts';

const log = logger('angos::policy');

export type Decision = { allowed: true } | { allowed: false; reason: string };

/**
 * Access decisions (chapter 03 §7): the global policy always, then the owning repository's when it declares one,
 * then the pull-through write guard. CEL rules arrive with the auth work; until then a policy with rules cannot be
 * evaluated and denies (fail closed).
 */
export function decide(config: Config, action: Action, ns: string | undefined): Decision {
  const global = evaluate(config.global.accessPolicy);
  if (!global) return { allowed: false, reason: 'denied by the global access policy' };
  if (ns === undefined) return { allowed: true };
  const repo = owningRepository(config, ns);
  if (repo?.accessPolicy && !evaluate(repo.accessPolicy)) {
    return { allowed: false, reason: `denied by the access policy of repository '${repo.name}'` };
  }
  if (repo && repo.upstreams.length > 0 && PUSH_ACTIONS.has(action)) {
    return { allowed: false, reason: 'Push operations are not supported on pull-through cache repositories' };
  }
  return { allowed: true };
}

function evaluate(policy: AccessPolicyConfig): boolean {
  if (policy.rules.length > 0) return false;
  return policy.default === 'allow';
}

/** One warning per policy whose rules cannot be evaluated yet, so the denials are not a mystery. */
export function warnUnevaluatedRules(config: Config): void {
  const policies: Array<[string, AccessPolicyConfig | undefined]> = [
    ['global.access_policy', config.global.accessPolicy],
    ...config.repositories.map((repo): [string, AccessPolicyConfig | undefined] => [`repository."${repo.name}".access_policy`, repo.accessPolicy]),
  ];
  for (const [key, policy] of policies) {
    if (policy && policy.rules.length > 0) {
      log.warn(`${key} has CEL rules, which this version does not evaluate yet: every request it governs is denied`);
    }
  }
}
