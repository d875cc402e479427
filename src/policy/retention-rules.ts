// Retention rules (docs/configuration.md, `[global.retention_policy]`): CEL expressions naming what to keep. They
// see the image under evaluation and the namespace's push and pull rankings, compile once when the configuration
// loads (type-checked, so a misspelt name fails the load rather than keeping everything) and are cached by source
// text, as the access rules are (`cel.ts`).
import { Environment, type ParseResult } from '@marcbachmann/cel-js';
import { CelCompileError, describeCelError, outcomeOf, type RuleOutcome } from './cel.ts';

/** The image a rule decides on. Times are Unix seconds; 0 = unknown (pushed) or never (pulled). */
export interface RetainedImage {
  /** null for a revision no tag points at. */
  readonly tag: string | null;
  readonly pushedAt: number;
  readonly lastPulledAt: number;
}

/** Everything one evaluation sees besides the rule itself. */
export interface RetentionInputs {
  readonly image: RetainedImage;
  /** `now()`, Unix seconds. */
  readonly now: number;
  /** The namespace's tags with a push time, newest first (ties by name): `top_pushed(n)` is membership in the first n. */
  readonly pushedRanking: readonly string[];
  /** The namespace's tags pulled at least once, most recently pulled first: `top_pulled(n)`. */
  readonly pulledRanking: readonly string[];
}

export interface RetentionRule {
  readonly source: string;
  /** `true` keeps; an error or a non-boolean result keeps too, and the caller warns (fail-open). */
  evaluate(inputs: RetentionInputs): RuleOutcome;
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** `n` units of `seconds` each, saturating at CEL's int range instead of overflowing. */
function duration(n: bigint, seconds: bigint): bigint {
  const product = n * seconds;
  return product > INT64_MAX ? INT64_MAX : product < INT64_MIN ? INT64_MIN : product;
}

/** Whether the image's tag is among the first `n` of `ranking`; untagged images are never ranked. */
function ranked(ranking: readonly string[], n: bigint): boolean {
  const tag = evaluating().image.tag;
  if (tag === null || n <= 0n) return false;
  const position = ranking.indexOf(tag);
  return position !== -1 && BigInt(position) < n;
}

// The inputs of the evaluation in progress, for the functions: the library hands them their arguments only, and
// evaluation is synchronous, so while one of them runs exactly one evaluation is in progress.
let current: RetentionInputs | undefined;

function evaluating(): RetentionInputs {
  if (current === undefined) throw new Error('retention function called outside an evaluation');
  return current;
}

const environment = new Environment()
  .registerVariable('image', 'map')
  .registerFunction('now(): int', () => BigInt(Math.floor(evaluating().now)))
  .registerFunction('days(int): int', (n: bigint) => duration(n, 86_400n))
  .registerFunction('hours(int): int', (n: bigint) => duration(n, 3_600n))
  .registerFunction('minutes(int): int', (n: bigint) => duration(n, 60n))
  .registerFunction('top_pushed(int): bool', (n: bigint) => ranked(evaluating().pushedRanking, n))
  .registerFunction('top_pulled(int): bool', (n: bigint) => ranked(evaluating().pulledRanking, n));

const compiled = new Map<string, RetentionRule>();

/** Compiles and type-checks a rule (cached by source); throws `CelCompileError` when it does not compile. */
export function compileRetentionRule(source: string): RetentionRule {
  const cached = compiled.get(source);
  if (cached) return cached;
  let program: ParseResult;
  try {
    program = environment.parse(source);
  } catch (err) {
    throw new CelCompileError(describeCelError(err));
  }
  const checked = program.check();
  if (!checked.valid) throw new CelCompileError(describeCelError(checked.error));
  const rule: RetentionRule = { source, evaluate: (inputs) => run(program, inputs) };
  compiled.set(source, rule);
  return rule;
}

function run(program: ParseResult, inputs: RetentionInputs): RuleOutcome {
  const { tag, pushedAt, lastPulledAt } = inputs.image;
  // CEL ints are BigInts: `image.pushed_at > now() - days(30)` compares int with int.
  const image = { tag, pushed_at: BigInt(Math.floor(pushedAt)), last_pulled_at: BigInt(Math.floor(lastPulledAt)) };
  const outer = current;
  current = inputs;
  try {
    return outcomeOf(() => program({ image }));
  } finally {
    current = outer;
  }
}
