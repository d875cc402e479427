// Which retention policies decide on a namespace and what they decide (docs/operations.md, "Retention policies"):
// the global policy and the owning repository's, an image kept when either keeps it; a rule that errors keeps.
import { owningRepository } from '../config/repository-lookup.ts';
import type { Config, RetentionPolicyConfig } from '../config/types.ts';
import { logger } from '../observability/logging.ts';
import type { Namespace } from '../oci/name.ts';
import { compileRetentionRule, type RetainedImage, type RetentionRule } from '../policy/retention-rules.ts';

const log = logger('angos::maintenance::retention');

/** One configured `retention_policy` table with rules, named as its table for messages. */
export interface RetentionPolicy {
  /** `[global.retention_policy]` or `[repository."<name>".retention_policy]`. */
  readonly table: string;
  readonly rules: readonly RetentionRule[];
}

/** The namespace's rankings and clock, the same for every image of one pass. */
export interface RetentionScene {
  /** Unix seconds. */
  readonly now: number;
  readonly pushedRanking: readonly string[];
  readonly pulledRanking: readonly string[];
}

/**
 * The policies deciding on `ns`: the global one and its owning repository's, those with rules. None ⇒ everything is
 * kept. A namespace no repository owns has only the global one.
 */
export function policiesFor(config: Config, ns: Namespace): RetentionPolicy[] {
  const repository = owningRepository(config, ns);
  return [
    withRules('[global.retention_policy]', config.global.retentionPolicy),
    repository === undefined ? undefined : withRules(`[repository."${repository.name}".retention_policy]`, repository.retentionPolicy),
  ].filter((policy): policy is RetentionPolicy => policy !== undefined);
}

/** Whether any policy anywhere has a rule: without one, retention has nothing to do. */
export function anyRetentionRules(config: Config): boolean {
  return hasRules(config.global.retentionPolicy) || config.repositories.some((repository) => hasRules(repository.retentionPolicy));
}

function hasRules(policy: RetentionPolicyConfig | undefined): boolean {
  return policy !== undefined && policy.rules.length > 0;
}

function withRules(table: string, policy: RetentionPolicyConfig | undefined): RetentionPolicy | undefined {
  if (!hasRules(policy)) return undefined;
  return { table, rules: policy!.rules.map((source) => compileRetentionRule(source)) };
}

const PULL_NAMES = [
  ['last_pulled_at', /\blast_pulled_at\b/],
  ['top_pulled', /\btop_pulled\s*\(/],
] as const;

/** The pull-time name a rule uses (`last_pulled_at`, `top_pulled`), if any. */
export function pullTimeNameIn(source: string): string | undefined {
  return PULL_NAMES.find(([, pattern]) => pattern.test(source))?.[0];
}

/** Whether any rule of these policies reads pull times (else they need not be looked up). */
export function usesPullTimes(policies: readonly RetentionPolicy[]): boolean {
  return policies.some((policy) => policy.rules.some((rule) => pullTimeNameIn(rule.source) !== undefined));
}

/**
 * Why retention must not run: a rule reads pull times that are not recorded (`update_pull_time = false`), so it
 * would see every image as never pulled and delete what its author meant to keep.
 */
export function pullTimeRefusal(config: Config): string | undefined {
  if (config.global.updatePullTime) return undefined;
  const tables: Array<[string, RetentionPolicyConfig | undefined]> = [
    ['[global.retention_policy]', config.global.retentionPolicy],
    ...config.repositories.map((repository): [string, RetentionPolicyConfig | undefined] => [`[repository."${repository.name}".retention_policy]`, repository.retentionPolicy]),
  ];
  for (const [table, policy] of tables) {
    for (const [index, source] of (policy?.rules ?? []).entries()) {
      const name = pullTimeNameIn(source);
      if (name !== undefined) {
        return `retention rule ${index + 1} of ${table} ('${source}') uses \`${name}\`, but \`[global] update_pull_time = false\`: pull times are not recorded; nothing was changed`;
      }
    }
  }
  return undefined;
}

/**
 * Decides images of one namespace. Within a policy the first rule that is `true` keeps; an error or a non-boolean
 * keeps too (fail-open), with a warning naming the rule, once per rule and namespace pass.
 */
export class RetentionJudge {
  readonly #ns: Namespace;
  readonly #policies: readonly RetentionPolicy[];
  readonly #scene: RetentionScene;
  readonly #warned = new Set<string>();

  constructor(ns: Namespace, policies: readonly RetentionPolicy[], scene: RetentionScene) {
    this.#ns = ns;
    this.#policies = policies;
    this.#scene = scene;
  }

  /** Kept when no policy has rules, or when either policy keeps it. */
  keeps(image: RetainedImage, subject: string): boolean {
    if (this.#policies.length === 0) return true;
    return this.#policies.some((policy) => this.#policyKeeps(policy, image, subject));
  }

  #policyKeeps(policy: RetentionPolicy, image: RetainedImage, subject: string): boolean {
    const inputs = { image, ...this.#scene };
    for (const [index, rule] of policy.rules.entries()) {
      const outcome = rule.evaluate(inputs);
      if (outcome.kind === 'boolean') {
        if (outcome.value) return true;
        continue;
      }
      const key = `${policy.table}#${index}`;
      if (!this.#warned.has(key)) {
        this.#warned.add(key);
        log.warn(`retention rule ${index + 1} of ${policy.table} did not evaluate to a boolean (${outcome.error}): keeping ${subject} and every other image it fails on in '${this.#ns}'`, {
          rule: rule.source,
          rule_index: index + 1,
          namespace: this.#ns,
        });
      }
      return true;
    }
    return false;
  }
}

/**
 * Tags ranked newest first by `time` (tags without one are left out), ties by tag name ascending so the order does
 * not depend on listing order.
 */
export function rankByTime(times: ReadonlyArray<readonly [string, number | undefined]>): string[] {
  return times
    .filter((entry): entry is readonly [string, number] => entry[1] !== undefined)
    .sort(([tagA, a], [tagB, b]) => (a !== b ? b - a : tagA < tagB ? -1 : tagA > tagB ? 1 : 0))
    .map(([tag]) => tag);
}
