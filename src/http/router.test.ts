import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256, sha512 } from '../../test/support/oci.ts';
import { OciError, UnmatchedError } from '../oci/errors.ts';
import { matchRoute } from './router.ts';

const D = sha256('hello');
const D512 = sha512('hello');
const SESSION = '123e4567-e89b-42d3-a456-426614174000';
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** Checks the fields given; fields not named are not part of the expectation. */
function expectRoute(method: string, url: string, expected: Record<string, unknown>): void {
  const route = matchRoute(method, url) as Record<string, unknown>;
  for (const [field, value] of Object.entries(expected)) assert.deepEqual(route[field], value, `${method} ${url}: ${field}`);
}

function expectUnmatched(method: string, url: string): void {
  assert.throws(() => matchRoute(method, url), UnmatchedError, `${method} ${url}`);
}

function expectDigestInvalid(method: string, url: string): void {
  assert.throws(
    () => matchRoute(method, url),
    (error: unknown) => error instanceof OciError && error.code === 'DIGEST_INVALID',
    `${method} ${url}`,
  );
}

test('API version on /v2/ and /v2 for GET and HEAD only', () => {
  for (const path of ['/v2/', '/v2']) {
    for (const method of ['GET', 'HEAD']) expectRoute(method, path, { action: 'get-api-version' });
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) expectUnmatched(method, path);
  }
});

test('catalog is GET only, with n defaulting to 100 and last', () => {
  expectRoute('GET', '/v2/_catalog', { action: 'list-catalog', n: 100, last: undefined });
  expectRoute('GET', '/v2/_catalog?n=5&last=a/b', { action: 'list-catalog', n: 5, last: 'a/b' });
  expectRoute('GET', '/v2/_catalog?n=0', { action: 'list-catalog', n: 0 });
  expectRoute('GET', '/v2/_catalog?n=65535', { action: 'list-catalog', n: 65535 });
  for (const method of ['HEAD', 'POST', 'PUT', 'DELETE']) expectUnmatched(method, '/v2/_catalog');
  for (const query of ['n=65536', 'n=-1', 'n=abc', 'n=1.5', 'n=', 'n=1&n=2', 'last=a&last=b']) {
    expectUnmatched('GET', `/v2/_catalog?${query}`);
  }
});

test('blob routes', () => {
  for (const method of ['GET', 'HEAD']) expectRoute(method, `/v2/library/nginx/blobs/${D}`, { action: 'get-blob', ns: 'library/nginx', digest: D });
  expectRoute('GET', `/v2/a/blobs/${D512}`, { action: 'get-blob', ns: 'a', digest: D512 });
  expectRoute('DELETE', `/v2/a/blobs/${D}`, { action: 'delete-blob', ns: 'a', digest: D });
  for (const method of ['POST', 'PUT', 'PATCH']) expectUnmatched(method, `/v2/a/blobs/${D}`);
  for (const bad of [D.toUpperCase(), 'sha256:zz', `md5:${'0'.repeat(32)}`, '']) expectUnmatched('GET', `/v2/a/blobs/${bad}`);
});

test('POST to /blobs/uploads/ (with or without the slash) starts an upload', () => {
  for (const path of ['/v2/a/blobs/uploads/', '/v2/a/blobs/uploads', '/v2/library/nginx/blobs/uploads/']) {
    expectRoute('POST', path, { action: 'start-upload', digest: undefined, algorithm: undefined });
  }
  expectRoute('POST', '/v2/library/nginx/blobs/uploads/', { ns: 'library/nginx' });
  expectRoute('POST', `/v2/a/blobs/uploads/?digest=${D}`, { action: 'start-upload', ns: 'a', digest: D });
  expectRoute('POST', '/v2/a/blobs/uploads/?digest-algorithm=sha512', { action: 'start-upload', algorithm: 'sha512' });
  expectRoute('POST', '/v2/a/blobs/uploads/?digest-algorithm=sha256', { action: 'start-upload', algorithm: 'sha256' });
  expectRoute('POST', '/v2/a/blobs/uploads/?from=a/one', { action: 'start-upload', ns: 'a' });
  expectRoute('POST', '/v2/a/blobs/uploads/?unknown=1&unknown=2', { action: 'start-upload' });
  for (const method of ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE']) expectUnmatched(method, '/v2/a/blobs/uploads/');
  for (const query of ['digest=sha256:zz', 'digest-algorithm=md5', 'digest-algorithm=SHA256', 'from=Bad', 'from=a//b', `digest=${D}&digest=${D}`]) {
    expectUnmatched('POST', `/v2/a/blobs/uploads/?${query}`);
  }
  expectUnmatched('POST', '/v2/Bad/blobs/uploads/');
});

test('POST with ?mount= mounts a blob, with an optional validated from', () => {
  expectRoute('POST', `/v2/a/two/blobs/uploads/?mount=${D}`, { action: 'mount-blob', ns: 'a/two', mount: D, from: undefined });
  expectRoute('POST', `/v2/a/two/blobs/uploads/?mount=${D}&from=a/one`, { action: 'mount-blob', mount: D, from: 'a/one' });
  expectRoute('POST', `/v2/a/two/blobs/uploads/?mount=${D512}&digest=${D}`, { action: 'mount-blob', mount: D512 });
  expectUnmatched('POST', '/v2/a/two/blobs/uploads/?mount=sha256:zz');
  expectUnmatched('POST', `/v2/a/two/blobs/uploads/?mount=${D}&from=Bad`);
  expectUnmatched('POST', `/v2/a/two/blobs/uploads/?mount=${D}&mount=${D}`);
});

test('upload session routes', () => {
  const path = `/v2/library/nginx/blobs/uploads/${SESSION}`;
  expectRoute('GET', path, { action: 'get-upload', ns: 'library/nginx', session: SESSION });
  expectRoute('PATCH', path, { action: 'update-upload', ns: 'library/nginx', session: SESSION });
  expectRoute('PUT', `${path}?digest=${D}`, { action: 'complete-upload', ns: 'library/nginx', session: SESSION, digest: D });
  expectRoute('PUT', `${path}?digest=${D512}`, { action: 'complete-upload', digest: D512 });
  expectRoute('DELETE', path, { action: 'cancel-upload', ns: 'library/nginx', session: SESSION });
  for (const method of ['HEAD', 'POST']) expectUnmatched(method, path);
  for (const query of ['', '?digest=', '?digest=sha256:zz', `?digest=${D}&digest=${D}`]) expectUnmatched('PUT', `${path}${query}`);
});

test('session ids other than the canonical lower-case UUID match no route', () => {
  const spellings = [SESSION.toUpperCase(), `{${SESSION}}`, `urn:uuid:${SESSION}`, SESSION.replaceAll('-', ''), 'nope'];
  for (const id of spellings) {
    for (const method of ['GET', 'PATCH', 'DELETE']) expectUnmatched(method, `/v2/a/blobs/uploads/${id}`);
    expectUnmatched('PUT', `/v2/a/blobs/uploads/${id}?digest=${D}`);
  }
});

test('manifest routes', () => {
  for (const method of ['GET', 'HEAD']) {
    expectRoute(method, '/v2/a/manifests/latest', { action: 'get-manifest', ns: 'a', reference: { kind: 'tag', tag: 'latest' } });
    expectRoute(method, `/v2/a/manifests/${D}`, { action: 'get-manifest', reference: { kind: 'digest', digest: D } });
  }
  expectRoute('PUT', '/v2/a/manifests/v1', { action: 'put-manifest', ns: 'a', reference: { kind: 'tag', tag: 'v1' }, tags: [] });
  expectRoute('PUT', `/v2/a/manifests/${D512}`, { action: 'put-manifest', reference: { kind: 'digest', digest: D512 } });
  expectRoute('DELETE', '/v2/a/manifests/v1', { action: 'delete-manifest', ns: 'a', reference: { kind: 'tag', tag: 'v1' } });
  expectRoute('DELETE', `/v2/a/manifests/${D}`, { action: 'delete-manifest', reference: { kind: 'digest', digest: D } });
  for (const method of ['POST', 'PATCH']) expectUnmatched(method, '/v2/a/manifests/latest');
  for (const reference of ['', 'foo:bar', '.x', 'a'.repeat(129), D.toUpperCase(), 'bad!']) {
    expectUnmatched('GET', `/v2/a/manifests/${reference}`);
    expectUnmatched('PUT', `/v2/a/manifests/${reference}`);
  }
});

test('manifest PUT keeps every ?tag= and refuses a bad one', () => {
  const route = matchRoute('PUT', `/v2/a/manifests/${D}?tag=b&tag=a&tag=a`);
  assert.equal(route.action, 'put-manifest');
  assert.ok('tags' in route);
  assert.deepEqual([...new Set(route.tags)].sort(), ['a', 'b']);
  expectUnmatched('PUT', `/v2/a/manifests/${D}?tag=bad!`);
  expectUnmatched('PUT', `/v2/a/manifests/${D}?tag=ok&tag=.bad`);
  expectUnmatched('PUT', `/v2/a/manifests/${D}?tag=`);
});

test('tags list is GET only, with n and last', () => {
  expectRoute('GET', '/v2/library/nginx/tags/list', { action: 'list-tags', ns: 'library/nginx', n: 100, last: undefined });
  expectRoute('GET', '/v2/a/tags/list?n=2&last=b', { action: 'list-tags', ns: 'a', n: 2, last: 'b' });
  for (const method of ['HEAD', 'POST', 'PUT', 'DELETE']) expectUnmatched(method, '/v2/a/tags/list');
  for (const query of ['n=65536', 'n=1&n=2', 'n=x', 'last=a&last=b']) expectUnmatched('GET', `/v2/a/tags/list?${query}`);
});

test('referrers route with form-decoded artifactType and last', () => {
  expectRoute('GET', `/v2/a/referrers/${D}`, { action: 'get-referrers', ns: 'a', digest: D, artifactType: undefined, last: undefined });
  expectRoute('GET', `/v2/a/referrers/${D}?artifactType=application%2Fvnd.x%2Bjson`, { artifactType: 'application/vnd.x+json' });
  expectRoute('GET', `/v2/a/referrers/${D512}?last=${D}`, { digest: D512, last: D });
  for (const method of ['HEAD', 'POST', 'PUT', 'DELETE']) expectUnmatched(method, `/v2/a/referrers/${D}`);
});

test('referrers with a bad digest or artifactType are DIGEST_INVALID, never unmatched', () => {
  for (const bad of ['sha256:zz', D.toUpperCase(), 'latest', '']) expectDigestInvalid('GET', `/v2/a/referrers/${bad}`);
  // An unescaped `+` is a space once form-decoded, so the media type is invalid.
  for (const query of ['artifactType=application/vnd.x+json', 'artifactType=nope', 'artifactType=']) {
    expectDigestInvalid('GET', `/v2/a/referrers/${D}?${query}`);
  }
  expectUnmatched('GET', `/v2/Bad/referrers/${D}`);
  expectUnmatched('GET', '/v2/Bad/referrers/sha256:zz');
});

test('names with __, -- and . route; malformed or 256-character names match nothing', () => {
  expectRoute('GET', '/v2/a__b/c--d/tags/list', { action: 'list-tags', ns: 'a__b/c--d' });
  expectRoute('GET', '/v2/a.b_c/manifests/latest', { action: 'get-manifest', ns: 'a.b_c' });
  const longest = `${'a'.repeat(14)}/${'b'.repeat(240)}`;
  expectRoute('GET', `/v2/${longest}/tags/list`, { action: 'list-tags', ns: longest });
  // Valid, but a last component over 240 characters cannot be stored: refused, not unmatched.
  assert.throws(() => matchRoute('GET', `/v2/${'a'.repeat(255)}/tags/list`), (err: unknown) => err instanceof OciError && err.code === 'NAME_INVALID');
  for (const name of ['a___b', '-a', 'a//b', 'a'.repeat(256), 'Upper', 'a/']) {
    expectUnmatched('GET', `/v2/${name}/manifests/latest`);
    expectUnmatched('PUT', `/v2/${name}/manifests/latest`);
    expectUnmatched('GET', `/v2/${name}/tags/list`);
    expectUnmatched('GET', `/v2/${name}/blobs/${D}`);
  }
});

test('the rightmost marker wins, so markers may be name components', () => {
  expectRoute('GET', `/v2/a/manifests/b/blobs/${D}`, { action: 'get-blob', ns: 'a/manifests/b', digest: D });
  expectRoute('GET', '/v2/a/blobs/b/manifests/latest', { action: 'get-manifest', ns: 'a/blobs/b' });
  expectRoute('GET', `/v2/blobs/blobs/${D}`, { action: 'get-blob', ns: 'blobs' });
  expectRoute('GET', '/v2/manifests/manifests/latest', { action: 'get-manifest', ns: 'manifests' });
  expectRoute('GET', '/v2/tags/list/tags/list', { action: 'list-tags', ns: 'tags/list' });
  expectRoute('GET', '/v2/a/referrers/b/manifests/latest', { action: 'get-manifest', ns: 'a/referrers/b' });
  expectRoute('GET', `/v2/a/tags/list/referrers/${D}`, { action: 'get-referrers', ns: 'a/tags/list' });
  expectRoute('GET', `/v2/a/blobs/uploads/blobs/uploads/${SESSION}`, { action: 'get-upload', ns: 'a/blobs/uploads' });
  expectRoute('POST', '/v2/a/blobs/uploads/blobs/uploads/', { action: 'start-upload', ns: 'a/blobs/uploads' });
  expectUnmatched('GET', `/v2/a/blobs/${D}/manifests/latest`);
});

test('paths are matched raw, without percent-decoding', () => {
  expectUnmatched('GET', '/v2/a%2Fb/tags/list');
  expectUnmatched('GET', `/v2/a/manifests/${D.replace(':', '%3A')}`);
  expectUnmatched('GET', `/v2/a/blobs/${D.replace(':', '%3a')}`);
});

test('query values are form-decoded and unknown parameters ignored', () => {
  expectRoute('GET', '/v2/_catalog?last=a%2Fb', { last: 'a/b' });
  expectRoute('GET', '/v2/_catalog?last=a+b', { last: 'a b' });
  expectRoute('GET', '/v2/a/manifests/latest?foo=1&foo=2', { action: 'get-manifest' });
  expectRoute('PUT', `/v2/a/manifests/${D}?tag=v%31`, { tags: ['v1'] });
});

test('extension API: registry-wide endpoints with their query rules', () => {
  expectRoute('GET', '/v2/_angos/repositories/list', { action: 'list-repositories' });
  expectRoute('GET', '/v2/_angos/ui/config', { action: 'ui-config' });
  expectRoute('GET', '/v2/_angos/namespaces/list?repository=library', { action: 'list-namespaces', repository: 'library' });
  expectUnmatched('GET', '/v2/_angos/namespaces/list');
  expectUnmatched('GET', '/v2/_angos/namespaces/list?repository=a&repository=b');
  for (const path of ['/v2/_angos/repositories/list', '/v2/_angos/ui/config', '/v2/_angos/namespaces/list?repository=a']) {
    for (const method of METHODS.filter((method) => method !== 'GET')) expectUnmatched(method, path);
  }
  for (const path of ['/v2/_angos/', '/v2/_angos/nope', '/v2/_angos/repositories/list/', '/v2/_angos/jobs', '/v2/_ext/repositories/list']) {
    for (const method of METHODS) expectUnmatched(method, path);
  }
});

test('extension API: job endpoints default to the cache queue; key and after are storage keys', () => {
  const key = '0000018f00000000-6f1c2a4e-8b7d-4c3e-9a2b-1d0e5f6a7b8c';
  expectRoute('GET', '/v2/_angos/jobs/list', { action: 'list-jobs', queue: 'cache', n: 100, after: undefined });
  expectRoute('GET', `/v2/_angos/jobs/failed?queue=replication&n=5&after=${key}`, { action: 'list-failed-jobs', queue: 'replication', n: 5, after: key });
  expectRoute('GET', '/v2/_angos/jobs/list?n=0', { action: 'list-jobs', n: 0 });
  expectRoute('POST', `/v2/_angos/jobs/failed?key=${key}`, { action: 'retry-job', queue: 'cache', key });
  expectRoute('DELETE', `/v2/_angos/jobs/pending?key=${key}&queue=replication`, { action: 'delete-job', state: 'pending', queue: 'replication', key });
  expectRoute('DELETE', `/v2/_angos/jobs/failed?key=${key}`, { action: 'delete-job', state: 'failed' });
  // Unknown queue or malformed value: GET 404 (unmatched), POST/DELETE 400.
  for (const query of ['queue=bogus', 'queue=cache&queue=cache', 'n=abc', 'n=65536', `after=${key}&after=${key}`, 'after=k', 'after=']) {
    expectUnmatched('GET', `/v2/_angos/jobs/list?${query}`);
    expectUnmatched('GET', `/v2/_angos/jobs/failed?${query}`);
  }
  for (const query of ['', '?key=', '?key=abc', `?key=${key}%2Fb`, `?key=a/${key}`, `?key=${key}&key=${key}`, `?key=${key}&queue=bogus`, `?key=${key.toUpperCase()}`]) {
    expectUnmatched('POST', `/v2/_angos/jobs/failed${query}`);
    expectUnmatched('DELETE', `/v2/_angos/jobs/failed${query}`);
    expectUnmatched('DELETE', `/v2/_angos/jobs/pending${query}`);
  }
  expectUnmatched('POST', `/v2/_angos/jobs/pending?key=${key}`);
  expectUnmatched('GET', '/v2/_angos/jobs/pending');
  expectUnmatched('HEAD', '/v2/_angos/jobs/list');
  expectUnmatched('DELETE', `/v2/_angos/jobs/list?key=${key}`);
});

test('extension API: per-namespace endpoints split at the first /_angos/', () => {
  expectRoute('GET', '/v2/library/nginx/_angos/revisions/list', { action: 'list-revisions', ns: 'library/nginx', pulls: undefined });
  expectRoute('GET', '/v2/x/_angos/uploads/list', { action: 'list-uploads', ns: 'x' });
  expectRoute('GET', '/v2/a/manifests/b/_angos/uploads/list', { action: 'list-uploads', ns: 'a/manifests/b' });
  expectRoute('GET', '/v2/x/_angos/pulls/list?tag=v1', { action: 'list-revisions', ns: 'x', pulls: { kind: 'tag', tag: 'v1' } });
  expectRoute('GET', `/v2/x/_angos/pulls/list?digest=${D}`, { action: 'list-revisions', pulls: { kind: 'digest', digest: D } });
  for (const query of ['', `?tag=v1&digest=${D}`, '?tag=bad!', '?digest=sha256:zz', '?tag=a&tag=b']) {
    expectUnmatched('GET', `/v2/x/_angos/pulls/list${query}`);
  }
  for (const path of ['/v2/x/_angos/revisions/list', '/v2/x/_angos/uploads/list', '/v2/x/_angos/pulls/list?tag=v1']) {
    for (const method of METHODS.filter((method) => method !== 'GET')) expectUnmatched(method, path);
  }
  for (const path of ['/v2/Bad/_angos/revisions/list', '/v2/x/_angos/revisions/list/x', '/v2/x/_angos/nope', '/v2/x/_angos/', '/v2/x/_angos/_angos/uploads/list']) {
    for (const method of METHODS) expectUnmatched(method, path);
  }
});

test('precedence: exact operational paths, then /v2/ routes, then the UI', () => {
  expectRoute('GET', '/healthz', { action: 'healthz' });
  expectRoute('GET', '/readyz', { action: 'readyz' });
  expectRoute('GET', '/metrics', { action: 'metrics' });
  expectRoute('GET', '/token', { action: 'get-token' });
  expectRoute('GET', '/token?service=registry&scope=repository:a:pull', { action: 'get-token' });
  for (const path of ['/healthz', '/readyz', '/metrics']) {
    expectRoute('HEAD', path, { action: 'ui-asset', path });
    for (const method of ['POST', 'PUT', 'DELETE']) expectUnmatched(method, path);
  }
  for (const method of METHODS.filter((method) => method !== 'GET')) expectUnmatched(method, '/token');
  expectRoute('GET', '/healthz/', { action: 'ui-asset', path: '/healthz/' });
});

test('other GET and HEAD requests outside /v2/ are UI assets; other methods match nothing', () => {
  for (const path of ['/', '/library/nginx:latest', '/library/nginx@sha256:abc', '/jobs', '/assets/app.js', '/_ext/x', '/_ui/config']) {
    for (const method of ['GET', 'HEAD']) expectRoute(method, path, { action: 'ui-asset', path });
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) expectUnmatched(method, path);
  }
});

test('anything under /v2/ that is not a route matches nothing, never the UI', () => {
  for (const path of ['/v2/nope', '/v2/library/nginx', '/v2/a/blobs', '/v2/a/manifests', '/v2/a/tags', '/v2/a/unknown/x', '/v2//tags/list']) {
    for (const method of METHODS) expectUnmatched(method, path);
  }
});
