// Tags list, catalog, paging and Link (docs/api.md, "Listings"), and what the catalog holds (docs/storage.md,
// "Catalog").
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { expectEmpty, expectError, expectNextLink, expectStatus, header } from '../support/expect.ts';
import { jsonBody, mediaTypeOf, request, type HttpResponse } from '../support/http.ts';
import { imageManifest, uniqueBlob } from '../support/oci.ts';
import { deleteManifest, pushBlob, pushManifest, startUpload } from '../support/registry.ts';
import { useServer } from '../support/registry-server.ts';

/** A 200 JSON listing; `next` is the expected Link target (path and form-decoded query), absent on the last page. */
function expectJson(response: HttpResponse, body: unknown, next?: [string, Array<[string, string]>]): void {
  expectStatus(response, 200);
  assert.equal(mediaTypeOf(response), 'application/json');
  assert.deepEqual(jsonBody(response), body);
  if (next === undefined) assert.equal(header(response, 'link'), undefined);
  else expectNextLink(response, ...next);
}

describe('tags list', () => {
  const srv = useServer();
  before(async () => {
    const manifest = imageManifest();
    await pushManifest(srv.url, 'test/app', manifest.digest, manifest, { query: '?tag=c&tag=a&tag=b' });
  });

  it('lists every tag in byte order', async () => {
    expectJson(await request(srv.url, '/v2/test/app/tags/list'), { name: 'test/app', tags: ['a', 'b', 'c'] });
  });

  it('?n=2 → ["a","b"] with a Link to the next page', async () => {
    expectJson(await request(srv.url, '/v2/test/app/tags/list?n=2'), { name: 'test/app', tags: ['a', 'b'] }, ['/v2/test/app/tags/list', [['n', '2'], ['last', 'b']]]);
  });

  it('?n=2&last=b → ["c"] without Link', async () => {
    expectJson(await request(srv.url, '/v2/test/app/tags/list?n=2&last=b'), { name: 'test/app', tags: ['c'] });
  });

  it('?n=3 exactly fits: no Link', async () => {
    expectJson(await request(srv.url, '/v2/test/app/tags/list?n=3'), { name: 'test/app', tags: ['a', 'b', 'c'] });
  });

  it('?n=0 → [] without Link', async () => {
    expectJson(await request(srv.url, '/v2/test/app/tags/list?n=0'), { name: 'test/app', tags: [] });
  });

  it('last need not exist', async () => {
    expectJson(await request(srv.url, '/v2/test/app/tags/list?last=aa'), { name: 'test/app', tags: ['b', 'c'] });
    expectJson(await request(srv.url, '/v2/test/app/tags/list?last=0'), { name: 'test/app', tags: ['a', 'b', 'c'] });
  });

  it('past the last tag of a namespace with content → 200 []', async () => {
    expectJson(await request(srv.url, '/v2/test/app/tags/list?last=c'), { name: 'test/app', tags: [] });
  });

  it('sorts byte-wise: B before a, Z before _ before a', async () => {
    const manifest = imageManifest();
    await pushManifest(srv.url, 'test/case', manifest.digest, manifest, { query: '?tag=a&tag=B&tag=_u&tag=Z&tag=9' });
    expectJson(await request(srv.url, '/v2/test/case/tags/list'), { name: 'test/case', tags: ['9', 'B', 'Z', '_u', 'a'] });
  });

  it('defaults to pages of 100', async () => {
    const manifest = imageManifest();
    const tags = Array.from({ length: 101 }, (_, i) => `t${String(i).padStart(3, '0')}`);
    // A push carries at most 100 `?tag=` values: two pushes.
    for (const part of [tags.slice(0, 100), tags.slice(100)]) {
      await pushManifest(srv.url, 'test/many', manifest.digest, manifest, { query: `?${part.map((t) => `tag=${t}`).join('&')}` });
    }
    const first = await request(srv.url, '/v2/test/many/tags/list');
    expectStatus(first, 200);
    assert.deepEqual((jsonBody(first) as { tags: string[] }).tags, tags.slice(0, 100));
    const next = expectNextLink(first, '/v2/test/many/tags/list', [['n', '100'], ['last', 't099']]);
    expectJson(await request(srv.url, next), { name: 'test/many', tags: ['t100'] });
  });

  it('an unused namespace → 404 NAME_UNKNOWN', async () => {
    expectError(await request(srv.url, '/v2/never/used/tags/list'), 404, 'NAME_UNKNOWN');
  });

  it('an upload-only namespace holds no content → 404 NAME_UNKNOWN', async () => {
    await pushBlob(srv.url, 'blobs/only', uniqueBlob());
    await startUpload(srv.url, 'blobs/only');
    expectError(await request(srv.url, '/v2/blobs/only/tags/list'), 404, 'NAME_UNKNOWN');
  });

  it('revisions without tags → 200 []', async () => {
    const manifest = imageManifest();
    await pushManifest(srv.url, 'test/untagged', manifest.digest, manifest);
    expectJson(await request(srv.url, '/v2/test/untagged/tags/list'), { name: 'test/untagged', tags: [] });
    const tagged = imageManifest();
    await pushManifest(srv.url, 'test/detagged', 'only', tagged);
    expectEmpty(await deleteManifest(srv.url, 'test/detagged', 'only'), 202);
    expectJson(await request(srv.url, '/v2/test/detagged/tags/list'), { name: 'test/detagged', tags: [] });
  });

  it('a namespace whose only revision was deleted → 404 NAME_UNKNOWN', async () => {
    const manifest = imageManifest();
    await pushManifest(srv.url, 'test/emptied', 'v1', manifest);
    expectEmpty(await deleteManifest(srv.url, 'test/emptied', manifest.digest), 202);
    expectError(await request(srv.url, '/v2/test/emptied/tags/list'), 404, 'NAME_UNKNOWN');
  });

  it('a deleted tag disappears from the list; a moved tag is listed once', async () => {
    const first = imageManifest();
    const second = imageManifest();
    await pushManifest(srv.url, 'test/moves', 'x', first);
    await pushManifest(srv.url, 'test/moves', 'y', first);
    await pushManifest(srv.url, 'test/moves', 'x', second);
    expectJson(await request(srv.url, '/v2/test/moves/tags/list'), { name: 'test/moves', tags: ['x', 'y'] });
    expectEmpty(await deleteManifest(srv.url, 'test/moves', 'y'), 202);
    expectJson(await request(srv.url, '/v2/test/moves/tags/list'), { name: 'test/moves', tags: ['x'] });
  });
});

describe('catalog', () => {
  const srv = useServer();

  it('an empty registry → 200 {"repositories":[]}', async () => {
    expectJson(await request(srv.url, '/v2/_catalog'), { repositories: [] });
  });

  it('lists only namespaces holding content, byte-wise ascending, with paging', async () => {
    for (const name of ['b/two', 'a/one', 'c']) await pushManifest(srv.url, name, 'v1', imageManifest());
    const untagged = imageManifest();
    await pushManifest(srv.url, 'z/untagged', untagged.digest, untagged);
    await pushBlob(srv.url, 'blobs/only', uniqueBlob());
    await startUpload(srv.url, 'uploads/only');
    const all = ['a/one', 'b/two', 'c', 'z/untagged'];
    expectJson(await request(srv.url, '/v2/_catalog'), { repositories: all });
    const first = await request(srv.url, '/v2/_catalog?n=2');
    expectJson(first, { repositories: ['a/one', 'b/two'] }, ['/v2/_catalog', [['n', '2'], ['last', 'b/two']]]);
    expectJson(await request(srv.url, expectNextLink(first, '/v2/_catalog', [['n', '2'], ['last', 'b/two']])), {
      repositories: ['c', 'z/untagged'],
    });
    expectJson(await request(srv.url, '/v2/_catalog?n=2&last=b%2Ftwo'), { repositories: ['c', 'z/untagged'] });
    expectJson(await request(srv.url, '/v2/_catalog?n=0'), { repositories: [] });
    expectJson(await request(srv.url, '/v2/_catalog?last=b'), { repositories: ['b/two', 'c', 'z/untagged'] });
  });

  it('a namespace whose content was all deleted leaves the catalog', async () => {
    const manifest = imageManifest();
    await pushManifest(srv.url, 'd/gone', 'v1', manifest);
    const before = jsonBody(await request(srv.url, '/v2/_catalog')) as { repositories: string[] };
    assert.ok(before.repositories.includes('d/gone'));
    expectEmpty(await deleteManifest(srv.url, 'd/gone', manifest.digest), 202);
    const afterDelete = jsonBody(await request(srv.url, '/v2/_catalog')) as { repositories: string[] };
    assert.ok(!afterDelete.repositories.includes('d/gone'), JSON.stringify(afterDelete));
  });
});
