import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CelCompileError, compileRule, type RuleOutcome } from './cel.ts';
import { anonymousIdentity, identityVariables, type Identity } from './identity.ts';

const OPS_CALLER: Identity = {
  ...anonymousIdentity('10.1.2.3'),
  certificate: { commonNames: ['build'], organizations: ['Platform', 'Ops'] },
};

const OIDC_CALLER: Identity = {
  ...anonymousIdentity('10.1.2.3'),
  oidc: { providerName: 'ci', providerType: 'github', claims: { repository: 'acme/app', groups: ['dev', 'ops'], run: 7n } },
};

function run(rule: string, identity: Identity = anonymousIdentity('127.0.0.1'), request: Record<string, unknown> = { action: 'get-blob' }): RuleOutcome {
  return compileRule(rule).evaluate({ request, identity: identityVariables(identity) });
}

function value(rule: string, identity?: Identity, request?: Record<string, unknown>): boolean {
  const outcome = run(rule, identity, request);
  assert.equal(outcome.kind, 'boolean', `${rule} → ${JSON.stringify(outcome)}`);
  return (outcome as { value: boolean }).value;
}

function errorOf(rule: string, identity?: Identity, request?: Record<string, unknown>): string {
  const outcome = run(rule, identity, request);
  assert.equal(outcome.kind, 'error', `${rule} evaluated to ${JSON.stringify(outcome)}`);
  return (outcome as { error: string }).error;
}

test('a syntax error is a CelCompileError with a one-line reason and its position', () => {
  for (const rule of ['request.action ==', "request.action = 'x'", "'unterminated", 'a.b(']) {
    assert.throws(
      () => compileRule(rule),
      (err: unknown) => err instanceof CelCompileError && /at position \d+$/.test(err.reason) && !err.reason.includes('\n'),
      rule,
    );
  }
});

test('a rule compiles once: the same source gives the same program', () => {
  assert.equal(compileRule("request.action == 'x'"), compileRule("request.action == 'x'"));
  assert.notEqual(compileRule("request.action == 'x'"), compileRule("request.action == 'y'"));
});

test('anonymous callers: username is null, so != "" holds and != null does not', () => {
  assert.equal(value("identity.username != ''"), true);
  assert.equal(value('identity.username != null'), false);
  assert.equal(value('identity.id == null && identity.oidc == null'), true);
  assert.equal(value('size(identity.certificate.common_names) == 0 && size(identity.certificate.organizations) == 0'), true);
  assert.equal(value("identity.client_ip == '127.0.0.1'"), true);
});

test('contains is membership on lists and key presence on maps, substring on strings', () => {
  assert.equal(value("identity.certificate.organizations.contains('Ops')", OPS_CALLER), true);
  assert.equal(value("identity.certificate.organizations.contains('Dev')", OPS_CALLER), false);
  assert.equal(value("identity.certificate.common_names.contains('build')", OPS_CALLER), true);
  assert.equal(value("identity.oidc.claims.groups.contains('ops')", OIDC_CALLER), true);
  assert.equal(value("identity.oidc.claims.contains('repository')", OIDC_CALLER), true);
  assert.equal(value("identity.oidc.claims.contains('actor')", OIDC_CALLER), false);
  assert.equal(value("request.tags.contains('t2')", undefined, { action: 'put-manifest', tags: ['t1', 't2'] }), true);
  // CEL equality, not JavaScript identity: an int list holds the double 2.0, and never the string '2'.
  assert.equal(value('[1, 2].contains(2.0)'), true);
  assert.equal(value("[1, 2].contains('2')"), false);
  assert.equal(value("identity.client_ip.contains('0.0')"), true);
});

test('the standard CEL environment: has, size, in, string functions, ternary, indexing', () => {
  const request = { action: 'get-manifest', namespace: 'team/app', reference: 'v1', n: 5n };
  assert.equal(value('has(request.namespace) && !has(request.digest)', undefined, request), true);
  assert.equal(value("request.action in ['get-manifest', 'get-blob']", undefined, request), true);
  assert.equal(value("request.namespace.startsWith('team/') && request.namespace.endsWith('/app')", undefined, request), true);
  assert.equal(value("request.reference.matches('^v[0-9]+$')", undefined, request), true);
  assert.equal(value('size(request.namespace) == 8 && request.n > 3', undefined, request), true);
  assert.equal(value("request['action'] == 'get-manifest' ? true : false", undefined, request), true);
  assert.equal(value("identity.oidc.claims['repository'] == 'acme/app' && identity.oidc.claims.run == 7", OIDC_CALLER), true);
});

test('&& short-circuits, so guarded OIDC rules never error for other callers', () => {
  assert.equal(value("identity.oidc != null && identity.oidc.claims['x'] == 'y'"), false);
  assert.equal(value("identity.oidc == null || identity.oidc.claims['x'] == 'y'"), true);
});

test('evaluation errors and non-boolean results are reported by kind, never by value', () => {
  assert.equal(errorOf('request.digest != null'), 'no_such_key');
  assert.equal(errorOf("identity.oidc.claims['x'] == 'y'"), 'no_such_key');
  assert.equal(errorOf("identity.oidc.claims['nope'] == 'y'", OIDC_CALLER), 'no_such_key');
  assert.equal(errorOf('nope == 1'), 'unknown_variable');
  assert.equal(errorOf("'x'"), 'non_boolean_result');
  assert.equal(errorOf('request.action'), 'non_boolean_result');
  assert.equal(errorOf("request.action.matches('[')"), 'invalid_regular_expression');
});

test('retention names compile but cannot evaluate in an access policy', () => {
  assert.equal(errorOf("image.tag == 'latest'"), 'unknown_variable');
  assert.equal(errorOf('now() > 0'), 'no_matching_overload');
  assert.equal(errorOf('top_pushed(3)'), 'no_matching_overload');
});

test('has_repository_policy() answers from the scope it is evaluated in; outside any, false', () => {
  const rule = compileRule('has_repository_policy()');
  const variables = { request: { action: 'get-blob' }, identity: identityVariables(anonymousIdentity('127.0.0.1')) };
  assert.deepEqual(rule.evaluate(variables, { hasRepositoryPolicy: true }), { kind: 'boolean', value: true });
  assert.deepEqual(rule.evaluate(variables, { hasRepositoryPolicy: false }), { kind: 'boolean', value: false });
  assert.deepEqual(rule.evaluate(variables), { kind: 'boolean', value: false });
  assert.equal(errorOf('has_repository_policy(1)'), 'no_matching_overload');
});
