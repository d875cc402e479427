// `[global.access_policy]` and `[repository."<name>".access_policy]` (docs/configuration.md); the CEL rules are
// compiled here, at load, by the policy layer (which caches the programs), so a syntax error fails the load.
import { CelCompileError, compileRule } from '../policy/cel.ts';
import { ConfigValueError, type TableReader } from './table-reader.ts';
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
    compileAtLoad(policy, rule, index);
  });
  policy.finish();
  const fallback = legacyAllow === true ? 'allow' : 'deny';
  return { default: explicitDefault ?? fallback, rules };
}

function compileAtLoad(policy: TableReader, rule: string, index: number): void {
  try {
    compileRule(rule);
  } catch (err) {
    if (!(err instanceof CelCompileError)) throw err;
    throw new ConfigValueError(`${policy.pathOf('rules')}[${index}]: invalid CEL rule '${rule}': ${err.reason}`);
  }
}
