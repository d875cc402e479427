// `[global.retention_policy]` and `[repository."<name>".retention_policy]` (docs/configuration.md): CEL rules
// naming what to keep, compiled here by the policy layer (which caches the programs), so a rule that could never
// run fails the load instead of the retention pass.
import { CelCompileError } from '../policy/cel.ts';
import { compileRetentionRule } from '../policy/retention-rules.ts';
import { ConfigValueError, type TableReader } from './table-reader.ts';
import type { RetentionPolicyConfig } from './types.ts';

export function readRetentionPolicy(policy: TableReader): RetentionPolicyConfig {
  const rules = policy.stringArray('rules') ?? [];
  rules.forEach((rule, index) => {
    const key = `${policy.pathOf('rules')}[${index}]`;
    if (rule.trim() === '') throw new ConfigValueError(`${key}: rule ${index + 1} is empty`);
    try {
      compileRetentionRule(rule);
    } catch (err) {
      if (!(err instanceof CelCompileError)) throw err;
      throw new ConfigValueError(`${key}: invalid CEL rule '${rule}': ${err.reason}`);
    }
  });
  policy.finish();
  return { rules };
}
