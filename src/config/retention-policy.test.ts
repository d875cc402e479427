import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFailure as failure, loadConfig as load } from '../../test/support/config-validation.ts';

test('global and repository retention policies load as their rules', () => {
  const config = load(
    '[global.retention_policy]\nrules = ["image.tag == \'latest\'", "image.last_pulled_at > now() - days(30)"]\n' +
      '[repository."ci".retention_policy]\nrules = ["top_pushed(3)", "image.pushed_at > now() - hours(2) || top_pulled(1)"]\n[repository."other"]\n',
  );
  assert.deepEqual(config.global.retentionPolicy, { rules: ["image.tag == 'latest'", 'image.last_pulled_at > now() - days(30)'] });
  assert.deepEqual(config.repositories[0]!.retentionPolicy, { rules: ['top_pushed(3)', 'image.pushed_at > now() - hours(2) || top_pulled(1)'] });
  assert.equal(config.repositories[1]!.retentionPolicy, undefined);
  assert.equal(load('').global.retentionPolicy, undefined);
  assert.deepEqual(load('[global.retention_policy]\n').global.retentionPolicy, { rules: [] });
});

test('a rule that does not compile fails naming the key, quoting the rule', () => {
  assert.match(failure('[global.retention_policy]\nrules = ["image.tag =="]\n'), /^global\.retention_policy\.rules\[0\]: invalid CEL rule 'image\.tag ==': /);
  // Type-checked against the retention environment: no `manifest`, no access-policy names.
  assert.match(failure('[global.retention_policy]\nrules = ["true", "manifest.size > 0"]\n'), /^global\.retention_policy\.rules\[1\]: invalid CEL rule 'manifest\.size > 0': .*manifest/);
  assert.match(failure('[repository."ci".retention_policy]\nrules = ["request.action == \'x\'"]\n'), /^repository\."ci"\.retention_policy\.rules\[0\]: invalid CEL rule/);
  assert.match(failure('[global.retention_policy]\nrules = ["top_pushed(\'3\')"]\n'), /^global\.retention_policy\.rules\[0\]: invalid CEL rule 'top_pushed\('3'\)': .*overload/);
  assert.equal(failure('[global.retention_policy]\nrules = [" "]\n'), 'global.retention_policy.rules[0]: rule 1 is empty');
  assert.equal(failure('[global.retention_policy]\nrules = "true"\n'), 'global.retention_policy.rules: invalid type: expected an array of strings, found string "true"');
  assert.deepEqual(load('[global.retention_policy]\nrules = []\nkeep = 3\n').warnings, ['Unknown configuration keys ignored: global.retention_policy.keep']);
});
