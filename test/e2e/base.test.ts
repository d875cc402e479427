// Routing, grammars and unmatched requests (docs/api.md, "Routing"), `/v2/` ("The base endpoint"), health and token
// ("Operational endpoints") and the error shape ("Errors"), with the web UI off and no token service.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectBody, expectChallenge, expectEmpty, expectError, expectStatus, header } from '../support/expect.ts';
import { jsonBody, mediaTypeOf, request, send } from '../support/http.ts';
import { imageManifest, UUID_V4, uniqueBlob } from '../support/oci.ts';
import { getBlob, getManifest, pushBlob, pushManifest } from '../support/registry.ts';
import { useServer } from '../support/registry-server.ts';

describe('registry with anonymous access allowed', () => {
  const srv = useServer();

  describe('GET|HEAD /v2/', () => {
    for (const method of ['GET', 'HEAD']) {
      for (const path of ['/v2/', '/v2']) {
        it(`${method} ${path} answers 200 with the API version header`, async () => {
          const response = await send(srv.url, method, path);
          expectEmpty(response, 200);
          assert.equal(header(response, 'docker-distribution-api-version'), 'registry/2.0');
          assert.equal(header(response, 'x-powered-by'), 'Angos');
        });
      }
    }

    it('ignores unknown query parameters', async () => {
      expectStatus(await request(srv.url, '/v2/?foo=bar&baz'), 200);
    });

    it('sends X-Powered-By only on the API root', async () => {
      const health = await request(srv.url, '/healthz');
      expectStatus(health, 200);
      assert.equal(header(health, 'x-powered-by'), undefined);
      const missing = await getBlob(srv.url, 'test/app', uniqueBlob().digest);
      assert.equal(header(missing, 'x-powered-by'), undefined);
    });
  });

  describe('namespace grammar', () => {
    const longValid = `${'abcdefghi/'.repeat(25)}abcde`;
    const valid = ['a__b/c--d', 'a.b_c', 'a-b', 'a---b/c', longValid, 'x/y/z/w'];
    const invalid = ['a___b', '-a', 'a//b', 'a'.repeat(256), 'A', 'a/', 'a..b', '_a', 'a/_b', 'a_', 'a%2Fb', 'a:b'];

    it('the 255-character sample is exactly 255 long', () => {
      assert.equal(longValid.length, 255);
    });

    for (const name of valid) {
      it(`routes the valid name ${name.length > 40 ? `${name.slice(0, 20)}… (${name.length})` : name}`, async () => {
        const blob = uniqueBlob();
        const missing = await getBlob(srv.url, name, blob.digest);
        expectError(missing, 404, 'BLOB_UNKNOWN');
        const started = await send(srv.url, 'POST', `/v2/${name}/blobs/uploads/`);
        expectEmpty(started, 202);
        const location = header(started, 'location') ?? '';
        assert.match(location, new RegExp(`^/v2/${name.replace(/\./g, '\\.')}/blobs/uploads/[0-9a-f-]{36}$`));
        await pushBlob(srv.url, name, blob);
        const read = await getBlob(srv.url, name, blob.digest);
        expectStatus(read, 200);
        assert.deepEqual(read.body, blob.bytes);
      });
    }

    for (const name of invalid) {
      it(`refuses the invalid name ${name.length > 40 ? `${name.slice(0, 10)}… (${name.length})` : name}`, async () => {
        const digest = uniqueBlob().digest;
        expectError(await getBlob(srv.url, name, digest), 404, 'NAME_UNKNOWN');
        expectError(await send(srv.url, 'HEAD', `/v2/${name}/blobs/${digest}`), 404, 'NAME_UNKNOWN', { head: true });
        expectError(await request(srv.url, `/v2/${name}/tags/list`), 404, 'NAME_UNKNOWN');
        const manifest = imageManifest();
        const put = await send(srv.url, 'PUT', `/v2/${name}/manifests/latest`, {
          headers: { 'content-type': manifest.mediaType },
          body: manifest.bytes,
        });
        expectError(put, 400, 'UNSUPPORTED');
        expectError(await send(srv.url, 'POST', `/v2/${name}/blobs/uploads/`), 400, 'UNSUPPORTED');
      });
    }
  });

  describe('path splitting', () => {
    it('takes the rightmost /blobs/ marker: /v2/a/manifests/b/blobs/<d> is a blob of a/manifests/b', async () => {
      const blob = uniqueBlob();
      await pushBlob(srv.url, 'a/manifests/b', blob);
      const read = await request(srv.url, `/v2/a/manifests/b/blobs/${blob.digest}`);
      expectStatus(read, 200);
      assert.deepEqual(read.body, blob.bytes);
      expectError(await getBlob(srv.url, 'a', blob.digest), 404, 'BLOB_UNKNOWN');
    });

    it('takes the rightmost /manifests/ marker: a/blobs/b is a namespace', async () => {
      const manifest = imageManifest();
      await pushManifest(srv.url, 'a/blobs/b', 'v1', manifest);
      expectBody(await request(srv.url, '/v2/a/blobs/b/manifests/v1'), manifest.bytes);
    });

    it('lets tags/list be name components', async () => {
      await pushManifest(srv.url, 'x/tags/list', 'v1', imageManifest());
      const listed = await request(srv.url, '/v2/x/tags/list/tags/list');
      expectStatus(listed, 200);
      assert.deepEqual(jsonBody(listed), { name: 'x/tags/list', tags: ['v1'] });
    });

    it('accepts the upload start without its trailing slash', async () => {
      const started = await send(srv.url, 'POST', '/v2/test/noslash/blobs/uploads');
      expectEmpty(started, 202);
      const location = header(started, 'location') ?? '';
      assert.match(location, /^\/v2\/test\/noslash\/blobs\/uploads\/[0-9a-f-]{36}$/);
      assert.match(location.split('/').pop() ?? '', UUID_V4);
    });

    it('matches paths raw: a percent-encoded slash is not a separator', async () => {
      await pushManifest(srv.url, 'test/raw', 'v1', imageManifest());
      expectStatus(await request(srv.url, '/v2/test/raw/tags/list'), 200);
      expectError(await request(srv.url, '/v2/test%2Fraw/tags/list'), 404, 'NAME_UNKNOWN');
      expectError(await request(srv.url, '/v2/test/raw/manifests/v%31'), 404, 'NAME_UNKNOWN');
    });
  });

  describe('unmatched requests', () => {
    const getPaths = [
      '/v2/nope',
      '/v2/test/app',
      '/v2/test/app/blobs/',
      '/v2/test/app/blobs/uploads/',
      '/v2/test/app/manifests/',
      '/v2/test/app/tags',
      '/v2/test/app/tags/list?n=1&n=2',
      '/v2/test/app/tags/list?n=abc',
      '/v2/test/app/tags/list?n=65536',
      '/v2/test/app/tags/list?n=-1',
      '/v2/_catalog?n=x',
      '/v2/_catalog?last=a&last=b',
      '/v2/_angos/nope',
      '/v2/test/app/_angos/nope',
      '/',
      '/index.html',
      '/library/nginx:latest',
      '/v2/_angos/ui/config',
      '/_ext/repositories',
      '/_ui/config',
    ];
    for (const path of getPaths) {
      it(`GET ${path} → 404 NAME_UNKNOWN`, async () => {
        expectError(await request(srv.url, path), 404, 'NAME_UNKNOWN');
      });
    }

    it('HEAD of an unmatched path → 404 without body (HEAD /healthz is a UI request)', async () => {
      const session = `/v2/test/app/blobs/uploads/${'123e4567-e89b-42d3-a456-426614174000'}`;
      const digest = uniqueBlob().digest;
      for (const path of ['/v2/nope', '/healthz', '/', '/v2/_catalog', '/v2/test/app/tags/list', session, `/v2/test/app/referrers/${digest}`]) {
        expectError(await send(srv.url, 'HEAD', path), 404, 'NAME_UNKNOWN', { head: true });
      }
    });

    const otherRequests: Array<[string, string]> = [
      ['POST', '/x'],
      ['POST', '/'],
      ['PUT', '/v2/'],
      ['DELETE', '/v2/'],
      ['POST', '/v2/nope'],
      ['DELETE', '/v2/_catalog'],
      ['POST', '/token'],
      ['DELETE', '/healthz'],
      ['POST', '/metrics'],
      ['PUT', '/v2/test/app/blobs/uploads/'],
      ['PATCH', '/v2/test/app/manifests/latest'],
      ['POST', '/v2/test/app/manifests/latest'],
      ['POST', '/v2/test/app/tags/list'],
      ['PUT', '/v2/test/app/blobs/sha256:0000000000000000000000000000000000000000000000000000000000000000'],
    ];
    for (const [method, path] of otherRequests) {
      it(`${method} ${path} → 400 UNSUPPORTED`, async () => {
        expectError(await send(srv.url, method, path), 400, 'UNSUPPORTED');
      });
    }
  });

  describe('operational endpoints', () => {
    it('GET /healthz → 200 {"status":"ok"}', async () => {
      const response = await request(srv.url, '/healthz');
      expectStatus(response, 200);
      assert.equal(mediaTypeOf(response), 'application/json');
      assert.deepEqual(jsonBody(response), { status: 'ok' });
    });

    it('GET /readyz → 200 {"status":"ready"} with working storage', async () => {
      const response = await request(srv.url, '/readyz');
      expectStatus(response, 200);
      assert.equal(mediaTypeOf(response), 'application/json');
      assert.deepEqual(jsonBody(response), { status: 'ready' });
    });

    it('GET /metrics → 200 Prometheus text', async () => {
      const response = await request(srv.url, '/metrics');
      expectStatus(response, 200);
      assert.equal(mediaTypeOf(response), 'text/plain');
      assert.match(response.body.toString('utf8'), /^# (HELP|TYPE) /m);
    });

    it('GET /token without a token service → 404 NAME_UNKNOWN', async () => {
      expectError(await request(srv.url, '/token?service=x&scope=repository:a:pull'), 404, 'NAME_UNKNOWN');
    });
  });

  describe('manifest and blob routes answer with their own errors, not unmatched ones', () => {
    it('a well-formed but absent reference is MANIFEST_UNKNOWN', async () => {
      expectError(await getManifest(srv.url, 'test/app', 'nosuchtag'), 404, 'MANIFEST_UNKNOWN');
      expectError(await getManifest(srv.url, 'test/app', 'nosuchtag', 'HEAD'), 404, 'MANIFEST_UNKNOWN', { head: true });
    });
  });
});

describe('registry with a default-deny policy and no rules', () => {
  const srv = useServer({ accessPolicy: { default: 'deny' } });

  it('GET /v2/ → 401 UNAUTHORIZED with the Basic challenge', async () => {
    expectChallenge(await request(srv.url, '/v2/'));
  });

  it('HEAD /v2/ → 401 with the challenge and no body', async () => {
    expectChallenge(await send(srv.url, 'HEAD', '/v2/'), { head: true });
  });

  it('unmatched requests are answered before authentication, without a challenge', async () => {
    const badName = await request(srv.url, '/v2/Bad/tags/list');
    expectError(badName, 404, 'NAME_UNKNOWN');
    assert.equal(header(badName, 'www-authenticate'), undefined);
    const post = await send(srv.url, 'POST', '/x');
    expectError(post, 400, 'UNSUPPORTED');
    assert.equal(header(post, 'www-authenticate'), undefined);
  });

  it('health probes go through the policy: /healthz and /readyz → 401', async () => {
    expectChallenge(await request(srv.url, '/healthz'));
    expectChallenge(await request(srv.url, '/readyz'));
  });

  it('every API action is refused to the anonymous caller', async () => {
    const blob = uniqueBlob();
    expectChallenge(await request(srv.url, '/v2/_catalog'));
    expectChallenge(await request(srv.url, '/v2/test/app/tags/list'));
    expectChallenge(await getBlob(srv.url, 'test/app', blob.digest));
    expectChallenge(await getManifest(srv.url, 'test/app', 'latest'));
    expectChallenge(await send(srv.url, 'POST', '/v2/test/app/blobs/uploads/'));
    expectChallenge(await send(srv.url, 'POST', `/v2/test/app/blobs/uploads/?digest=${blob.digest}`, { body: blob.bytes }));
    expectChallenge(await request(srv.url, `/v2/test/app/referrers/${blob.digest}`));
  });
});

describe('default-deny with a rule granting the health probes', () => {
  const srv = useServer({ accessPolicy: { default: 'deny', rules: ["request.action in ['healthz', 'readyz']"] } });

  it('the probes answer 200 while the API still challenges', async () => {
    const health = await request(srv.url, '/healthz');
    expectStatus(health, 200);
    assert.deepEqual(jsonBody(health), { status: 'ok' });
    expectStatus(await request(srv.url, '/readyz'), 200);
    expectChallenge(await request(srv.url, '/v2/'));
    expectChallenge(await request(srv.url, '/metrics'));
  });
});
