// `[global.access_policy]` and `[repository."<name>".access_policy]` (§3.3); the CEL rules are
// compiled by the policy layer, here they are only checked to be non-blank strings.
import type { TableReader } from './table-reader.ts';
import type { AccessPolicyConfig } from './types.ts';

export function readAccessPolicy(policy: TableReader): AccessPolicyConfig {
  const explicitDefault = policy.string('default');
  if (explicitDefault !== undefined && explicitDefault !== 'allow' && explicitDefault !== 'deny') {
    policy.fail('default', `expected 'allow' or 'deny', got '${explicitDefault}'`);
  }
  const legacyAllow = policy.bool('default_allow');
  if (legacyAllow !== undefined) {
    policy.warn(`${policy.pathOf('default_allow')} is deprecated; use default = "allow" or "deny"`);
  }
  const rules = policy.stringArray('rules') ?? [];
  rules.forEach((rule, index) => {
    if (rule.trim() === '') policy.fail('rules', `rule ${index + 1} is empty`);
  });
  policy.finish();
  const fallback = legacyAllow === true ? 'allow' : 'deny';
  return { default: explicitDefault ?? fallback, rules };
}
