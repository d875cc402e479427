import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RuleOutcome } from './cel.ts';
import { CelCompileError } from './cel.ts';
import { compileRetentionRule, type RetainedImage, type RetentionInputs } from './retention-rules.ts';

const DAY = 86_400;
const NOW = 100 * DAY;

function inputs(image: Partial<RetainedImage>, rankings: Partial<Pick<RetentionInputs, 'pushedRanking' | 'pulledRanking'>> = {}): RetentionInputs {
  return { image: { tag: null, pushedAt: 0, lastPulledAt: 0, ...image }, now: NOW, pushedRanking: [], pulledRanking: [], ...rankings };
}

function keeps(rule: string, given: RetentionInputs): boolean {
  const outcome: RuleOutcome = compileRetentionRule(rule).evaluate(given);
  assert.equal(outcome.kind, 'boolean', `${rule} → ${JSON.stringify(outcome)}`);
  return (outcome as { value: boolean }).value;
}

test('image variables, now() and the duration functions', () => {
  assert.equal(keeps("image.tag == 'latest'", inputs({ tag: 'latest' })), true);
  assert.equal(keeps("image.tag == 'latest'", inputs({ tag: null })), false);
  assert.equal(keeps('image.pushed_at > now() - days(14)', inputs({ pushedAt: 95 * DAY })), true);
  assert.equal(keeps('image.pushed_at > now() - days(14)', inputs({ pushedAt: 40 * DAY })), false);
  assert.equal(keeps('image.last_pulled_at > now() - hours(2)', inputs({ lastPulledAt: NOW - 3_600 })), true);
  assert.equal(keeps('minutes(2) == 120 && hours(1) == 3600 && days(1) == 86400 && now() == 8640000', inputs({})), true);
  assert.equal(keeps('image.tag != null && image.tag.matches("^v[0-9]+\\\\.[0-9]+\\\\.[0-9]+$")', inputs({ tag: 'v1.2.0' })), true);
});

test('durations saturate instead of overflowing', () => {
  assert.equal(keeps('days(9223372036854775807) == 9223372036854775807', inputs({})), true);
  assert.equal(keeps('days(-9223372036854775807) == -9223372036854775808', inputs({})), true);
});

test('top_pushed(n) and top_pulled(n): membership in the first n of the ranking; untagged images never rank', () => {
  const rankings = { pushedRanking: ['b5', 'b4', 'b3', 'b2', 'b1'], pulledRanking: ['latest', 'old'] };
  assert.equal(keeps('top_pushed(3)', inputs({ tag: 'b3' }, rankings)), true);
  assert.equal(keeps('top_pushed(3)', inputs({ tag: 'b2' }, rankings)), false);
  assert.equal(keeps('top_pushed(3)', inputs({ tag: null }, rankings)), false);
  assert.equal(keeps('top_pushed(0)', inputs({ tag: 'b5' }, rankings)), false);
  assert.equal(keeps('top_pulled(2)', inputs({ tag: 'old' }, rankings)), true);
  assert.equal(keeps('top_pulled(2)', inputs({ tag: 'tmp' }, rankings)), false);
});

test('a non-boolean result or an error is reported, for the caller to keep and warn', () => {
  assert.deepEqual(compileRetentionRule('image.pushed_at').evaluate(inputs({})), { kind: 'error', error: 'non_boolean_result' });
  assert.equal(compileRetentionRule("image.tag.startsWith('v')").evaluate(inputs({ tag: null })).kind, 'error');
});

test('compiling type-checks: unknown names, wrong argument types and syntax errors are refused', () => {
  for (const rule of ['manifest.size > 0', "top_pushed('3')", 'now(1) > 0', 'image.tag ==', 'request.action == "x"']) {
    assert.throws(() => compileRetentionRule(rule), (err: unknown) => err instanceof CelCompileError && !err.reason.includes('\n'), rule);
  }
});

test('a rule compiles once: the same source gives the same program', () => {
  assert.equal(compileRetentionRule('top_pushed(1)'), compileRetentionRule('top_pushed(1)'));
});
