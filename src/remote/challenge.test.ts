import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseChallenge, parseChallenges, tokenUrl } from './challenge.ts';

const params = (header: string) => parseChallenges(header).map(({ scheme, params }) => [scheme, Object.fromEntries(params)]);

describe('WWW-Authenticate parsing', () => {
  it('reads a Docker Bearer challenge', () => {
    assert.deepEqual(params('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"'), [
      ['bearer', { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' }],
    ]);
  });

  it('reads unquoted values, spaces, escapes and upper-case names; several challenges in one header', () => {
    assert.deepEqual(params('BASIC Realm=Angos, charset="UTF-8", Bearer realm = "http://x/t" , service=a\\b, scope="a \\"b\\""'), [
      ['basic', { realm: 'Angos', charset: 'UTF-8' }],
      ['bearer', { realm: 'http://x/t', service: 'a\\b', scope: 'a "b"' }],
    ]);
  });

  it('a scheme alone, or nothing', () => {
    assert.deepEqual(params('Negotiate'), [['negotiate', {}]]);
    assert.deepEqual(params(''), []);
  });

  it('prefers Bearer among several headers', () => {
    assert.equal(chooseChallenge(['Basic realm="x"', 'Bearer realm="http://t/"'])?.scheme, 'bearer');
    assert.equal(chooseChallenge('Basic realm="x"')?.scheme, 'basic');
    assert.equal(chooseChallenge(undefined), undefined);
  });

  it('the token URL carries every parameter but the realm, URL-encoded', () => {
    const [challenge] = parseChallenges('Bearer realm="https://auth.example/token?x=1",service="reg.example",scope="repository:a/b:pull,push"');
    assert.equal(tokenUrl(challenge!).href, 'https://auth.example/token?x=1&service=reg.example&scope=repository%3Aa%2Fb%3Apull%2Cpush');
  });

  it('a realm that is no http(s) URL is refused', () => {
    for (const header of ['Bearer service="x"', 'Bearer realm="/token"', 'Bearer realm="file:///etc/passwd"']) {
      assert.throws(() => tokenUrl(parseChallenges(header)[0]!), /realm/, header);
    }
  });
});
