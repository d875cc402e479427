import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchRoute } from '../http/router.ts';
import { compileRule } from './cel.ts';
import { anonymousIdentity, identityVariables } from './identity.ts';
import { requestVariables, type RequestVariables } from './request-variables.ts';

const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;
const SESSION = '0b5e0f5c-7c43-4d51-9d8e-0c7f3c1f9a10';

// Through the real router, so the variables are those a request of that shape gets.
function variablesOf(method: string, url: string): RequestVariables {
  return requestVariables(matchRoute(method, url));
}

function holds(rule: string, request: RequestVariables): boolean {
  const outcome = compileRule(rule).evaluate({ request, identity: identityVariables(anonymousIdentity()) });
  assert.equal(outcome.kind, 'boolean', `${rule} → ${JSON.stringify(outcome)}`);
  return (outcome as { value: boolean }).value;
}

test('namespace-less actions carry the action only', () => {
  for (const [method, url, action] of [
    ['GET', '/v2/', 'get-api-version'],
    ['GET', '/healthz', 'healthz'],
    ['GET', '/readyz', 'readyz'],
    ['GET', '/metrics', 'metrics'],
    ['GET', '/token', 'get-token'],
    ['GET', '/index.html', 'ui-asset'],
  ] as const) {
    assert.deepEqual(variablesOf(method, url), { action }, url);
  }
});

test('blob reads and deletes: namespace and digest', () => {
  assert.deepEqual(variablesOf('GET', `/v2/team/app/blobs/${D1}`), { action: 'get-blob', namespace: 'team/app', digest: D1 });
  assert.deepEqual(variablesOf('HEAD', `/v2/team/app/blobs/${D1}`), { action: 'get-blob', namespace: 'team/app', digest: D1 });
  assert.deepEqual(variablesOf('DELETE', `/v2/team/app/blobs/${D1}`), { action: 'delete-blob', namespace: 'team/app', digest: D1 });
});

test('start-upload: digest and digest_algorithm only when given', () => {
  const plain = variablesOf('POST', '/v2/team/app/blobs/uploads/');
  assert.deepEqual(plain, { action: 'start-upload', namespace: 'team/app' });
  assert.equal(holds('has(request.digest)', plain), false);
  const monolithic = variablesOf('POST', `/v2/team/app/blobs/uploads/?digest=${D1}&digest-algorithm=sha512`);
  assert.deepEqual(monolithic, { action: 'start-upload', namespace: 'team/app', digest: D1, digest_algorithm: 'sha512' });
  assert.equal(holds(`request.digest == '${D1}'`, monolithic), true);
});

test('mount-blob: digest is the mounted one, from only when given', () => {
  const withoutFrom = variablesOf('POST', `/v2/team/app/blobs/uploads/?mount=${D1}`);
  assert.deepEqual(withoutFrom, { action: 'mount-blob', namespace: 'team/app', digest: D1 });
  assert.equal(holds('has(request.from)', withoutFrom), false);
  const withFrom = variablesOf('POST', `/v2/team/app/blobs/uploads/?mount=${D1}&from=lib/src&digest=${D2}`);
  assert.deepEqual(withFrom, { action: 'mount-blob', namespace: 'team/app', digest: D1, from: 'lib/src' });
  assert.equal(holds("request.from == 'lib/src'", withFrom), true);
});

test('upload-session actions expose the session as uuid and session_id; complete-upload adds digest', () => {
  const base = { namespace: 'team/app', uuid: SESSION, session_id: SESSION };
  const url = `/v2/team/app/blobs/uploads/${SESSION}`;
  assert.deepEqual(variablesOf('GET', url), { action: 'get-upload', ...base });
  assert.deepEqual(variablesOf('PATCH', url), { action: 'update-upload', ...base });
  assert.deepEqual(variablesOf('DELETE', url), { action: 'cancel-upload', ...base });
  assert.deepEqual(variablesOf('PUT', `${url}?digest=${D1}`), { action: 'complete-upload', ...base, digest: D1 });
});

test('manifest reads and deletes: reference as a plain string, no digest or tags', () => {
  const byTag = variablesOf('GET', '/v2/team/app/manifests/v1');
  assert.deepEqual(byTag, { action: 'get-manifest', namespace: 'team/app', reference: 'v1' });
  assert.equal(holds("request.reference == 'v1'", byTag), true);
  assert.deepEqual(variablesOf('DELETE', `/v2/team/app/manifests/${D1}`), { action: 'delete-manifest', namespace: 'team/app', reference: D1 });
  assert.equal(holds('has(request.tags) || has(request.digest)', byTag), false);
});

test('put-manifest: tags written are the path tag, or the deduplicated ?tag= values with the digest', () => {
  const byTag = variablesOf('PUT', '/v2/team/app/manifests/v1?tag=ignored');
  assert.deepEqual(byTag, { action: 'put-manifest', namespace: 'team/app', reference: 'v1', tags: ['v1'] });
  const byDigest = variablesOf('PUT', `/v2/team/app/manifests/${D1}?tag=t1&tag=t2&tag=t1`);
  assert.deepEqual(byDigest, { action: 'put-manifest', namespace: 'team/app', reference: D1, digest: D1, tags: ['t1', 't2'] });
  assert.equal(holds("request.tags == ['t1', 't2']", byDigest), true);
  const untagged = variablesOf('PUT', `/v2/team/app/manifests/${D1}`);
  assert.equal(holds('has(request.tags) && size(request.tags) == 0', untagged), true);
});

test('listings: n as a CEL int, last when given; referrers: digest and artifact_type, never last', () => {
  const catalog = variablesOf('GET', '/v2/_catalog?n=5&last=a/b');
  assert.deepEqual(catalog, { action: 'list-catalog', n: 5n, last: 'a/b' });
  assert.equal(holds('request.n == 5 && request.n < 10 && type(request.n) == int', catalog), true);
  const tags = variablesOf('GET', '/v2/team/app/tags/list?n=2');
  assert.deepEqual(tags, { action: 'list-tags', namespace: 'team/app', n: 2n });
  assert.equal(holds('has(request.last)', tags), false);
  const referrers = variablesOf('GET', `/v2/team/app/referrers/${D1}?artifactType=application/vnd.example&last=x`);
  assert.deepEqual(referrers, { action: 'get-referrers', namespace: 'team/app', digest: D1, artifact_type: 'application/vnd.example' });
});

test('extension API: repository, queue (default cache), n and after where the policy sees them', () => {
  assert.deepEqual(variablesOf('GET', '/v2/_angos/repositories/list'), { action: 'list-repositories' });
  assert.deepEqual(variablesOf('GET', '/v2/_angos/ui/config'), { action: 'ui-config' });
  assert.deepEqual(variablesOf('GET', '/v2/_angos/namespaces/list?repository=hub'), { action: 'list-namespaces', repository: 'hub' });
  assert.deepEqual(variablesOf('GET', '/v2/team/app/_angos/revisions/list'), { action: 'list-revisions', namespace: 'team/app' });
  assert.deepEqual(variablesOf('GET', '/v2/team/app/_angos/uploads/list'), { action: 'list-uploads', namespace: 'team/app' });
  const key = '0000018f00000000-6f1c2a4e-8b7d-4c3e-9a2b-1d0e5f6a7b8c';
  assert.deepEqual(variablesOf('GET', `/v2/_angos/jobs/list?n=3&after=${key}`), { action: 'list-jobs', queue: 'cache', n: 3n, after: key });
  assert.deepEqual(variablesOf('POST', `/v2/_angos/jobs/failed?key=${key}&queue=replication`), { action: 'retry-job', queue: 'replication' });
  assert.deepEqual(variablesOf('DELETE', `/v2/_angos/jobs/pending?key=${key}`), { action: 'delete-job', queue: 'cache' });
});
