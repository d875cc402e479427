import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'smol-toml';
import { validateConfig } from '../config/validate.ts';
import { OciError, UnmatchedError } from '../oci/errors.ts';
import { parseNamespace, type Namespace } from '../oci/name.ts';
import { rewriteNamespace } from './namespace-rewrite.ts';

const config = validateConfig(
  parse(
    `[server]\nbind_address = "127.0.0.1"\n[blob_store.fs]\nroot_dir = "/tmp/unused"\n` +
      `[repository."hub"]\nnamespace = "Docker.IO"\n[[repository."hub".upstream]]\nurl = "https://registry-1.docker.io"\n`,
    { integersAsBigInt: true },
  ),
);
const ns = (name: string): Namespace => parseNamespace(name)!;

test('a declared ns moves the name under its repository and is echoed as sent', () => {
  assert.deepEqual(rewriteNamespace(config, ns('library/nginx'), '/v2/library/nginx/manifests/latest?ns=docker.io'), { ns: 'hub/library/nginx', header: 'docker.io' });
  assert.deepEqual(rewriteNamespace(config, ns('library/nginx'), '/v2/library/nginx/manifests/latest?ns=DOCKER.io'), { ns: 'hub/library/nginx', header: 'DOCKER.io' });
  assert.deepEqual(rewriteNamespace(config, ns('hub/library/nginx'), '/v2/hub/library/nginx/manifests/latest?ns=docker.io'), { ns: 'hub/library/nginx', header: 'docker.io' }, 'already owned');
});

test('an absent, empty or undeclared ns changes nothing', () => {
  for (const url of ['/v2/a/manifests/t', '/v2/a/manifests/t?n=1', '/v2/a/manifests/t?ns=', '/v2/a/manifests/t?ns=ghcr.io']) {
    assert.equal(rewriteNamespace(config, ns('a'), url), undefined, url);
  }
});

test('a repeated ns is malformed, not ignored', () => {
  assert.throws(() => rewriteNamespace(config, ns('a'), '/v2/a/manifests/t?ns=docker.io&ns=docker.io'), UnmatchedError);
  assert.throws(() => rewriteNamespace(config, ns('a'), '/v2/a/manifests/t?ns=&ns=ghcr.io'), UnmatchedError);
});

test('a rewritten name longer than 255 characters is NAME_INVALID', () => {
  const long = ns(`a/${'b'.repeat(250)}`);
  assert.throws(() => rewriteNamespace(config, long, `/v2/${long}/manifests/t?ns=docker.io`), (err: unknown) => err instanceof OciError && err.code === 'NAME_INVALID');
});
