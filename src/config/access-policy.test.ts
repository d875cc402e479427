import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './load.ts';

const BASE = '[server]\nbind_address = "127.0.0.1"\n[blob_store.fs]\nroot_dir = "/data"\n';

async function loadText(toml: string): Promise<{ reason?: string; rules?: readonly string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'angos-policy-'));
  try {
    const path = join(dir, 'config.toml');
    await writeFile(path, BASE + toml);
    const config = await loadConfig([path]);
    return { rules: config.global.accessPolicy.rules };
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return { reason: error.reason };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a CEL syntax error fails the load, naming the key, quoting the rule and giving the reason', async () => {
  const { reason } = await loadText(`[global.access_policy]\nrules = ["true", "request.action =="]\n`);
  assert.equal(reason, "global.access_policy.rules[1]: invalid CEL rule 'request.action ==': Unexpected token: EOF at position 17");
});

test('a repository policy rule is checked the same way', async () => {
  const { reason } = await loadText(`[repository."prod".access_policy]\nrules = ["identity.username = 'x'"]\n`);
  assert.match(reason ?? '', /^repository\."prod"\.access_policy\.rules\[0\]: invalid CEL rule 'identity\.username = 'x'': Unexpected character: =/);
});

test('valid rules load, including names that only fail when evaluated', async () => {
  const rules = ["request.action in ['get-blob', 'get-manifest']", "identity.certificate.organizations.contains('Ops')", 'nope == 1'];
  assert.deepEqual(await loadText(`[global.access_policy]\nrules = ${JSON.stringify(rules)}\n`), { rules });
});

test('blank rules are still refused before compilation', async () => {
  const { reason } = await loadText(`[global.access_policy]\nrules = ["   "]\n`);
  assert.equal(reason, 'global.access_policy.rules: rule 1 is empty');
});
