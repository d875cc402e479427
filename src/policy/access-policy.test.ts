import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import type { Config } from '../config/types.ts';
import { validateConfig } from '../config/validate.ts';
import { decide, type Decision } from './access-policy.ts';
import type { Action } from './actions.ts';
import { anonymousIdentity, type Identity } from './identity.ts';
import { requestVariables } from './request-variables.ts';

const BASE = '[server]\nbind_address = "127.0.0.1"\n[blob_store.fs]\nroot_dir = "/data"\n';
const D1 = `sha256:${'a'.repeat(64)}`;

function configOf(toml: string): Config {
  return validateConfig(parse(BASE + toml, { integersAsBigInt: true }));
}

function globalPolicy(defaultMode: 'allow' | 'deny', rules: string[]): Config {
  return configOf(`[global.access_policy]\ndefault = "${defaultMode}"\nrules = ${JSON.stringify(rules)}\n`);
}

function decideFor(config: Config, action: Action, ns?: string, identity: Identity = anonymousIdentity()): Decision {
  const digest = action === 'get-blob' || action === 'mount-blob' ? D1 : undefined;
  return decide(config, { identity, request: requestVariables({ action, ns, digest }) });
}

function allowed(config: Config, action: Action, ns?: string, identity?: Identity): boolean {
  return decideFor(config, action, ns, identity).allowed;
}

const TRUE = "request.action == 'get-blob'";
const FALSE = "request.action == 'nothing'";
const ERROR = "request.no_such_variable == 'x'";
const NON_BOOLEAN = "'x'";

// One policy's rules → [decision under default "deny", decision under default "allow"].
const SECTION_7_2: Array<[string, string[], [boolean, boolean]]> = [
  ['a true rule', [TRUE], [true, false]],
  ['false, then true', [FALSE, TRUE], [true, false]],
  ['only false rules', [FALSE, FALSE], [false, true]],
  ['no rules', [], [false, true]],
  ['a non-boolean result', [NON_BOOLEAN], [false, false]],
  ['an error, then false', [ERROR, FALSE], [false, false]],
  // An erroring rule stops evaluation: the later rule that would match never runs.
  ['an error, then true', ['nope == 1', 'true'], [false, false]],
  // A true rule stops too, so an error after it is never reached.
  ['true, then an error', [TRUE, ERROR], [true, false]],
];

test('one policy: every row of the table under both defaults', () => {
  for (const [row, rules, [underDeny, underAllow]] of SECTION_7_2) {
    assert.equal(allowed(globalPolicy('deny', rules), 'get-blob', 'a/b'), underDeny, `default deny, ${row}`);
    assert.equal(allowed(globalPolicy('allow', rules), 'get-blob', 'a/b'), underAllow, `default allow, ${row}`);
  }
});

test('default allow with a delete rule refuses deletes and allows pulls', () => {
  const noDeletes = globalPolicy('allow', ["request.action == 'delete-manifest'"]);
  assert.equal(allowed(noDeletes, 'delete-manifest', 'a/b'), false);
  assert.equal(allowed(noDeletes, 'get-manifest', 'a/b'), true);
});

test('no [global.access_policy]: everything is denied, health probes included', () => {
  const config = configOf('');
  for (const action of ['healthz', 'readyz', 'metrics', 'get-api-version'] as const) assert.equal(allowed(config, action), false);
  assert.equal(allowed(config, 'get-blob', 'a/b'), false);
});

test('a denial tells the client "Access denied" and names the deciding policy for the logs', () => {
  const config = configOf(
    '[global.access_policy]\ndefault = "allow"\nrules = ["request.namespace == \'g/x\'"]\n' + '[repository."prod".access_policy]\ndefault = "deny"\n',
  );
  assert.deepEqual(decideFor(config, 'get-blob', 'g/x'), { allowed: false, reason: 'Access denied', deniedBy: 'global.access_policy' });
  assert.deepEqual(decideFor(config, 'get-blob', 'prod/app'), { allowed: false, reason: 'Access denied', deniedBy: 'repository."prod".access_policy' });
  assert.deepEqual(decideFor(config, 'get-blob', 'other'), { allowed: true });
});

test('both policies must allow; uncovered namespaces and namespace-less actions see the global one only', () => {
  const config = configOf(
    '[global.access_policy]\ndefault = "allow"\nrules = ["request.action == \'delete-manifest\'"]\n' +
      '[repository."prod".access_policy]\ndefault = "deny"\nrules = ["request.action == \'get-manifest\'"]\n',
  );
  // The repository's default deny applies under prod, including nested namespaces.
  assert.equal(allowed(config, 'get-blob', 'prod'), false);
  assert.equal(allowed(config, 'get-blob', 'prod/app'), false);
  assert.equal(allowed(config, 'get-manifest', 'prod/app'), true);
  // A global deny cannot be overridden by a repository allow.
  assert.equal(allowed(config, 'delete-manifest', 'prod/app'), false);
  // Coverage is by whole path segments: `production` is not under `prod`.
  assert.equal(allowed(config, 'get-blob', 'production/app'), true);
  assert.equal(allowed(config, 'get-blob', 'other/app'), true);
  assert.equal(allowed(config, 'list-catalog'), true);
  assert.equal(allowed(config, 'healthz'), true);
});

test('a declared repository policy locks even with default deny and no rules; an undeclared one does not', () => {
  const declared = configOf('[global.access_policy]\ndefault = "allow"\n[repository."prod".access_policy]\n');
  assert.equal(allowed(declared, 'get-manifest', 'prod/app'), false);
  const undeclared = configOf('[global.access_policy]\ndefault = "allow"\n[repository."prod"]\nimmutable_tags = true\n');
  assert.equal(allowed(undeclared, 'get-manifest', 'prod/app'), true);
});

test('repository rules see the same request and identity variables as global ones', () => {
  const config = configOf(
    '[global.access_policy]\ndefault = "allow"\n' +
      '[repository."prod".access_policy]\ndefault = "deny"\nrules = ["request.namespace.startsWith(\'prod/\') && identity.client_ip == \'10.0.0.1\'"]\n',
  );
  assert.equal(allowed(config, 'get-blob', 'prod/app', anonymousIdentity('10.0.0.1')), true);
  assert.equal(allowed(config, 'get-blob', 'prod/app', anonymousIdentity('10.0.0.2')), false);
});

test('pull-through guard: writes to a repository with an upstream are refused after both policies allow', () => {
  const config = configOf('[global.access_policy]\ndefault = "allow"\n[repository."hub"]\n[[repository."hub".upstream]]\nurl = "https://up.example"\n');
  for (const action of ['start-upload', 'mount-blob', 'update-upload', 'complete-upload', 'cancel-upload', 'put-manifest'] as const) {
    assert.deepEqual(decideFor(config, action, 'hub/library/nginx'), {
      allowed: false,
      reason: 'Push operations are not supported on pull-through cache repositories: they are read-only caches of their upstreams',
      deniedBy: 'pull-through',
    });
  }
  assert.equal(allowed(config, 'get-blob', 'hub/library/nginx'), true);
  assert.equal(allowed(config, 'delete-manifest', 'hub/library/nginx'), true);
  assert.equal(allowed(config, 'start-upload', 'local/app'), true);
  // A policy denial comes first, with its own message.
  const locked = configOf('[global.access_policy]\ndefault = "deny"\n[repository."hub"]\n[[repository."hub".upstream]]\nurl = "https://up.example"\n');
  assert.equal((decideFor(locked, 'start-upload', 'hub/x') as { reason: string }).reason, 'Access denied');
});

const node = join(import.meta.dirname, '../../node_modules/.bin/node');

test('a failing rule logs a warning with the policy, 1-based rule index and error kind, never values', () => {
  const script = `
    import { parse } from 'smol-toml';
    import { validateConfig } from ${JSON.stringify(join(import.meta.dirname, '../config/validate.ts'))};
    import { decide } from ${JSON.stringify(join(import.meta.dirname, 'access-policy.ts'))};
    import { anonymousIdentity } from ${JSON.stringify(join(import.meta.dirname, 'identity.ts'))};
    const toml = ${JSON.stringify(`${BASE}[global.access_policy]\ndefault = "deny"\nrules = ["false", "request.namespace == 'x' && request.digest != null"]\n`)};
    const config = validateConfig(parse(toml, { integersAsBigInt: true }));
    const identity = { ...anonymousIdentity('203.0.113.77'), username: 'secret-user' };
    const decision = decide(config, { identity, request: { action: 'start-upload', namespace: 'x' } });
    if (decision.allowed) process.exit(3);
  `;
  const env = { ...process.env, RUST_LOG: 'warn' };
  const result = spawnSync(node, ['--input-type=module', '-e', script], { cwd: join(import.meta.dirname, '../..'), env, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const lines = result.stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { level: string; fields: Record<string, unknown> });
  assert.equal(lines.length, 1, result.stdout);
  const { level, fields } = lines[0]!;
  const { message, ...named } = fields;
  assert.equal(level, 'WARN');
  assert.match(String(message), /denied/);
  assert.deepEqual(named, { policy: 'global.access_policy', rule: 2, error: 'no_such_key' });
  for (const value of ['secret-user', '203.0.113.77']) assert.ok(!result.stdout.includes(value), `${value} leaked`);
});

test('has_repository_policy(): a global rule can defer to repository policies', () => {
  // Default deny globally, except where a repository declares its own policy: that one then decides alone.
  const config = configOf(
    '[global.access_policy]\ndefault = "deny"\nrules = ["has_repository_policy()"]\n' +
      '[repository."prod".access_policy]\ndefault = "deny"\nrules = ["request.action == \'get-blob\'"]\n' +
      '[repository."plain"]\nimmutable_tags = true\n',
  );
  assert.equal(allowed(config, 'get-blob', 'prod/app'), true);
  assert.equal(allowed(config, 'delete-blob', 'prod/app'), false);
  // Covered by a repository without its own policy, by none, or no namespace at all: false, so denied.
  assert.equal(allowed(config, 'get-blob', 'plain/app'), false);
  assert.equal(allowed(config, 'get-blob', 'other/app'), false);
  assert.equal(allowed(config, 'list-catalog'), false);
  // In a repository policy it is always true.
  const inRepository = configOf(
    '[global.access_policy]\ndefault = "allow"\n[repository."prod".access_policy]\ndefault = "deny"\nrules = ["has_repository_policy()"]\n',
  );
  assert.equal(allowed(inRepository, 'delete-blob', 'prod/app'), true);
});
