// Cross-namespace mounts (docs/api.md, "Mounts") and the grants they make (docs/storage.md, "Who may read a blob"),
// including the policy side for an anonymous caller (the authenticated 403 half needs auth configured).
import { describe, it } from 'node:test';
import { expectBlobCreated, expectBody, expectChallenge, expectEmpty, expectError, expectNewSession, expectStatus } from '../support/expect.ts';
import { send, type HttpResponse } from '../support/http.ts';
import { uniqueBlob } from '../support/oci.ts';
import { getBlob, headBlob, pushBlob } from '../support/registry.ts';
import { useServer } from '../support/registry-server.ts';

function mount(baseUrl: string, target: string, query: string): Promise<HttpResponse> {
  return send(baseUrl, 'POST', `/v2/${target}/blobs/uploads/${query}`);
}

describe('blob mount', () => {
  const srv = useServer();

  it('a blob of a/one is 404 via a/two until mounted from a/one → 201, then readable', async () => {
    const blob = uniqueBlob();
    await pushBlob(srv.url, 'a/one', blob);
    expectError(await getBlob(srv.url, 'a/two', blob.digest), 404, 'BLOB_UNKNOWN');
    expectBlobCreated(await mount(srv.url, 'a/two', `?mount=${blob.digest}&from=a/one`), 'a/two', blob.digest);
    expectBody(await getBlob(srv.url, 'a/two', blob.digest), blob.bytes);
  });

  it('an unknown digest → 202 session, never an error', async () => {
    const { digest } = uniqueBlob();
    expectNewSession(await mount(srv.url, 'a/two', `?mount=${digest}&from=a/one`), 'a/two');
    expectNewSession(await mount(srv.url, 'a/two', `?mount=${digest}`), 'a/two');
  });

  it('without from, any namespace holding the digest is a source → 201', async () => {
    const blob = uniqueBlob();
    await pushBlob(srv.url, 'a/three', blob);
    expectBlobCreated(await mount(srv.url, 'a/four', `?mount=${blob.digest}`), 'a/four', blob.digest);
    expectStatus(await headBlob(srv.url, 'a/four', blob.digest), 200);
  });

  it('a from that does not hold the digest → 202 and the blob stays unreadable', async () => {
    const blob = uniqueBlob();
    await pushBlob(srv.url, 'a/five', blob);
    expectNewSession(await mount(srv.url, 'a/six', `?mount=${blob.digest}&from=a/seven`), 'a/six');
    expectError(await getBlob(srv.url, 'a/six', blob.digest), 404, 'BLOB_UNKNOWN');
  });

  it('mount overrides digest and ignores digest-algorithm', async () => {
    const blob = uniqueBlob();
    const other = uniqueBlob();
    await pushBlob(srv.url, 'b/one', blob);
    const response = await mount(
      srv.url,
      'b/two',
      `?digest=${other.digest}&digest-algorithm=sha512&mount=${blob.digest}&from=b/one`,
    );
    expectBlobCreated(response, 'b/two', blob.digest);
  });

  it('a mounted grant survives the source deleting its own', async () => {
    const blob = uniqueBlob();
    await pushBlob(srv.url, 'c/one', blob);
    expectBlobCreated(await mount(srv.url, 'c/two', `?mount=${blob.digest}&from=c/one`), 'c/two', blob.digest);
    expectEmpty(await send(srv.url, 'DELETE', `/v2/c/one/blobs/${blob.digest}`), 202);
    expectError(await getBlob(srv.url, 'c/one', blob.digest), 404, 'BLOB_UNKNOWN');
    expectStatus(await getBlob(srv.url, 'c/two', blob.digest), 200);
  });

  it('a from whose grant was revoked is no source', async () => {
    const blob = uniqueBlob();
    await pushBlob(srv.url, 'd/one', blob);
    expectEmpty(await send(srv.url, 'DELETE', `/v2/d/one/blobs/${blob.digest}`), 202);
    expectNewSession(await mount(srv.url, 'd/two', `?mount=${blob.digest}&from=d/one`), 'd/two');
    expectError(await getBlob(srv.url, 'd/two', blob.digest), 404, 'BLOB_UNKNOWN');
  });

  it('?mount=sha256:zz → 400 UNSUPPORTED', async () => {
    expectError(await mount(srv.url, 'a/two', '?mount=sha256:zz'), 400, 'UNSUPPORTED');
    expectError(await mount(srv.url, 'a/two', `?mount=${uniqueBlob().digest}&from=A/One`), 400, 'UNSUPPORTED');
  });
});

describe('blob mount under an access policy (anonymous caller)', () => {
  const srv = useServer({
    accessPolicy: {
      // Under default "allow" a rule that evaluates true denies.
      default: 'allow',
      rules: [
        "request.action == 'get-blob' && request.namespace == 'locked/src'",
        "request.action == 'mount-blob' && request.namespace == 'locked/target'",
      ],
    },
  });

  it('a source the caller may not read → 202 session and the blob stays 404', async () => {
    const blob = uniqueBlob();
    await pushBlob(srv.url, 'locked/src', blob);
    expectChallenge(await headBlob(srv.url, 'locked/src', blob.digest), { head: true });
    expectNewSession(await mount(srv.url, 'open/dst', `?mount=${blob.digest}&from=locked/src`), 'open/dst');
    expectError(await getBlob(srv.url, 'open/dst', blob.digest), 404, 'BLOB_UNKNOWN');
    // Without from the only candidate is skipped silently as well.
    expectNewSession(await mount(srv.url, 'open/dst', `?mount=${blob.digest}`), 'open/dst');
    expectError(await getBlob(srv.url, 'open/dst', blob.digest), 404, 'BLOB_UNKNOWN');
  });

  it('without from, a denied candidate is skipped for a readable one', async () => {
    const blob = uniqueBlob();
    await pushBlob(srv.url, 'locked/src', blob);
    await pushBlob(srv.url, 'open/src', blob);
    expectBlobCreated(await mount(srv.url, 'open/dst2', `?mount=${blob.digest}`), 'open/dst2', blob.digest);
    expectStatus(await getBlob(srv.url, 'open/dst2', blob.digest), 200);
  });

  it('a caller denied mount-blob on the target → 401 with the challenge, no fallback session', async () => {
    const blob = uniqueBlob();
    await pushBlob(srv.url, 'open/src', blob);
    expectChallenge(await mount(srv.url, 'locked/target', `?mount=${blob.digest}&from=open/src`));
    expectError(await getBlob(srv.url, 'locked/target', blob.digest), 404, 'BLOB_UNKNOWN');
  });
});
