import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFailure as failure, loadConfig as load } from '../../test/support/config-validation.ts';
import { parseRemoteUrl } from './remote-url.ts';

test('a bare host maps namespaces verbatim; a path is the namespace they are mapped under', () => {
  assert.deepEqual(parseRemoteUrl('https://registry-1.docker.io'), { origin: 'https://registry-1.docker.io', namespacePath: undefined });
  assert.deepEqual(parseRemoteUrl('https://registry-1.docker.io/'), { origin: 'https://registry-1.docker.io', namespacePath: undefined });
  assert.deepEqual(parseRemoteUrl('https://GHCR.io:443/acme'), { origin: 'https://ghcr.io', namespacePath: 'acme' });
  assert.deepEqual(parseRemoteUrl('http://10.0.0.5:5000/team/mirrors/'), { origin: 'http://10.0.0.5:5000', namespacePath: 'team/mirrors' });
});

test('paths that are not namespaces, queries, fragments and credentials are refused', () => {
  for (const url of ['https://ghcr.io/Acme', 'https://ghcr.io/a//b', 'https://ghcr.io/a/../b', 'https://ghcr.io/./a', 'https://ghcr.io/a_', 'https://ghcr.io/a%2fb']) {
    assert.throws(() => parseRemoteUrl(url), /is not a valid namespace/, url);
  }
  assert.throws(() => parseRemoteUrl('https://ghcr.io/acme?x=1'), /has a query or fragment/);
  assert.throws(() => parseRemoteUrl('https://ghcr.io/acme#top'), /has a query or fragment/);
  assert.throws(() => parseRemoteUrl('https://user:hunter2@ghcr.io/acme'), (err: unknown) => err instanceof Error && /credentials/.test(err.message) && !err.message.includes('hunter2'));
  assert.throws(() => parseRemoteUrl('https://ghcr.io\\acme'), /expected scheme:\/\/host\[:port\]\[\/path\]/);
  assert.throws(() => parseRemoteUrl(' https://ghcr.io'), /expected scheme:\/\/host\[:port\]\[\/path\]/);
  assert.throws(() => parseRemoteUrl('ftp://ghcr.io'), /expected an absolute http\(s\) URL/);
});

test('upstream and downstream entries carry the parsed origin and namespace path; a bad path names key and value', () => {
  const config = load(
    '[repository."ghcr"]\n[[repository."ghcr".upstream]]\nurl = "https://ghcr.io/acme/"\n' +
      '[repository."apps"]\n[[repository."apps".downstream]]\nname = "dr"\nurl = "https://dr.example:8443/apps-dr"\n',
  );
  const [upstream] = config.repositories[0]!.upstreams;
  assert.deepEqual([upstream!.url, upstream!.origin, upstream!.namespacePath], ['https://ghcr.io/acme/', 'https://ghcr.io', 'acme']);
  const [downstream] = config.repositories[1]!.downstreams;
  assert.deepEqual([downstream!.origin, downstream!.namespacePath], ['https://dr.example:8443', 'apps-dr']);

  assert.equal(
    failure('[repository."hub"]\n[[repository."hub".upstream]]\nurl = "https://registry.example/Team"\n'),
    `repository."hub".upstream[0].url: the path 'Team' of 'https://registry.example/Team' is not a valid namespace`,
  );
  assert.match(failure('[repository."a"]\n[[repository."a".downstream]]\nname = "d"\nurl = "https://d.example/x?y"\n'), /^repository\."a"\.downstream\[0\]\.url: .* has a query or fragment/);
});
