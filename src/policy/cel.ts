// CEL rules of the access policies (docs/configuration.md, `[global.access_policy]`), on @marcbachmann/cel-js.
// Rules compile once, when the configuration loads, and are kept in a cache keyed by their source text: the
// configuration stays plain data and a hot reload that keeps a rule reuses its program.
import { Environment, parse, type ParseResult } from '@marcbachmann/cel-js';

/** What one rule evaluated to; `error` is a short kind (library error code), never a value from the request. */
export type RuleOutcome = { readonly kind: 'boolean'; readonly value: boolean } | { readonly kind: 'error'; readonly error: string };

/** What a rule's functions know of the decision in progress, beyond the `request` and `identity` variables. */
export interface RuleScope {
  /**
   * `has_repository_policy()`: in the global policy, whether the namespace is covered by a repository declaring its
   * own access policy (so a global rule can defer to it); in a repository policy, always true.
   */
  readonly hasRepositoryPolicy: boolean;
}

export interface CompiledRule {
  readonly source: string;
  /** `scope` defaults to a global policy for a namespace no repository policy covers. */
  evaluate(variables: Readonly<Record<string, unknown>>, scope?: RuleScope): RuleOutcome;
}

/** A rule the parser refused; `reason` says why and where, without the highlighted source the library adds. */
export class CelCompileError extends Error {
  readonly reason: string;

  constructor(reason: string) {
    super(reason);
    this.reason = reason;
  }
}

// `x in y` evaluated by the library itself, so `.contains` on lists and maps keeps CEL's equality rules
// (int 1 equals double 1.0, lists compare element-wise) instead of a hand-written approximation.
const membership = parse('value in container');
const isMember = (container: unknown, value: unknown): boolean => membership({ value, container }) === true;

const UNCOVERED: RuleScope = { hasRepositoryPolicy: false };

// The scope of the evaluation in progress. The library hands functions their arguments only, and evaluation is
// synchronous (no function here returns a promise), so while a registered function runs exactly one evaluation is
// in progress: the one `run` set this for.
let current: RuleScope = UNCOVERED;

// Only `request` and `identity` are declared; any other name (a retention name such as `image`, a typo) still
// compiles and fails at evaluation, which denies.
const environment = new Environment()
  .registerVariable('request', 'map')
  .registerVariable('identity', 'map')
  .registerFunction('list.contains(dyn): bool', isMember)
  .registerFunction('map.contains(dyn): bool', isMember)
  .registerFunction('has_repository_policy(): bool', () => current.hasRepositoryPolicy);

const compiled = new Map<string, CompiledRule>();

/** Compiles a rule (cached by source); throws `CelCompileError` on a syntax error. */
export function compileRule(source: string): CompiledRule {
  const cached = compiled.get(source);
  if (cached) return cached;
  let program: ParseResult;
  try {
    program = environment.parse(source);
  } catch (err) {
    throw new CelCompileError(describeCelError(err));
  }
  const rule: CompiledRule = { source, evaluate: (variables, scope = UNCOVERED) => run(program, variables, scope) };
  compiled.set(source, rule);
  return rule;
}

function run(program: ParseResult, variables: Readonly<Record<string, unknown>>, scope: RuleScope): RuleOutcome {
  const outer = current;
  current = scope;
  try {
    return outcomeOf(() => program(variables));
  } finally {
    current = outer;
  }
}

/** A rule's result as a boolean or an error kind: what both access and retention rules decide on. */
export function outcomeOf(evaluate: () => unknown): RuleOutcome {
  let result: unknown;
  try {
    result = evaluate();
  } catch (err) {
    return { kind: 'error', error: errorKind(err) };
  }
  if (typeof result === 'boolean') return { kind: 'boolean', value: result };
  return { kind: 'error', error: 'non_boolean_result' };
}

/** A parse or type-check error in one line, with its position, without the highlighted source the library adds. */
export function describeCelError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const { summary, range } = err as Error & { summary?: string; range?: { start: number } };
  const text = summary ?? err.message.split('\n')[0] ?? err.message;
  return range ? `${text} at position ${range.start}` : text;
}

/** The library's error code (`no_such_key`, `unknown_variable`, …): it names the failure, not the data. */
function errorKind(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code !== '') return code;
  return err instanceof Error ? err.name : 'unknown_error';
}
