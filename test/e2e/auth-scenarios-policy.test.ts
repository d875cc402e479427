// CEL access policies, client IPs and tag immutability against the real server (docs/configuration.md,
// `[global.access_policy]`). Denials of anonymous callers are 401 with the challenge (docs/api.md, "Request
// processing").
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorMessage, expectBlobCreated, expectChallenge, expectError, expectStatus, header } from '../support/expect.ts';
import { request, send } from '../support/http.ts';
import { imageManifest, uniqueBlob, type Manifest } from '../support/oci.ts';
import { deleteManifest, getManifest, pushBlob, pushManifest, putManifest } from '../support/registry.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { basicAuth, identityToml } from './auth-fixtures.ts';

function policyToml(defaultDecision: 'allow' | 'deny', rules: string[]): string {
  return `[global.access_policy]\ndefault = "${defaultDecision}"\nrules = ${JSON.stringify(rules)}\n`;
}

/** One server for the enclosing describe, with `toml` (computed in the hook, so it may await). */
function serverWith(toml: () => string | Promise<string>): { url: () => string } {
  let server: RunningServer | undefined;
  before(async () => {
    server = await startServer({ extraToml: await toml() });
  });
  after(async () => {
    await server?.stop();
  });
  return { url: () => server!.url };
}

describe('trusted proxies feed identity.client_ip', () => {
  // Loopback stands in for the scenario's 10.0.0.0/8: the test's peer address is always 127.0.0.1.
  const rules = ["request.action == 'list-catalog' && identity.client_ip == '1.2.3.4'", "request.action == 'list-tags' && identity.client_ip == '127.0.0.1'"];
  const forwarded = { 'x-forwarded-for': '1.2.3.4, 127.0.0.7' };

  describe('from a trusted peer', () => {
    const server = serverWith(() => `[global]\ntrusted_proxies = ["127.0.0.0/8"]\n${policyToml('deny', rules)}`);
    it('the rightmost X-Forwarded-For entry outside the trusted ranges is the client', async () => {
      expectStatus(await request(server.url(), '/v2/_catalog', { headers: forwarded }), 200);
      expectError(await request(server.url(), '/v2/team/app/tags/list', { headers: forwarded }), 401, 'UNAUTHORIZED');
    });
  });

  describe('from an untrusted peer', () => {
    const server = serverWith(() => `[global]\ntrusted_proxies = ["10.0.0.0/8"]\n${policyToml('deny', rules)}`);
    it('the forwarding headers are ignored: the client is the peer', async () => {
      expectChallenge(await request(server.url(), '/v2/_catalog', { headers: forwarded }));
      expectError(await request(server.url(), '/v2/team/app/tags/list', { headers: forwarded }), 404, 'NAME_UNKNOWN');
    });
  });
});

describe('a rule that errors or is not boolean denies', () => {
  const erroring = serverWith(() => policyToml('deny', ['nope == 1', 'true']));
  const stringDeny = serverWith(() => policyToml('deny', ["'x'"]));
  const stringAllow = serverWith(() => policyToml('allow', ["'x'"]));

  it('default deny, ["nope == 1", "true"]: the first rule errors, so the later true rule never grants', async () => {
    expectChallenge(await request(erroring.url(), '/v2/'));
    expectChallenge(await request(erroring.url(), '/v2/_catalog'));
  });

  it('a string result denies under both defaults', async () => {
    expectChallenge(await request(stringDeny.url(), '/v2/'));
    expectChallenge(await request(stringAllow.url(), '/v2/'));
  });
});

describe('default allow with a delete-manifest rule', () => {
  const server = serverWith(() => policyToml('allow', ["request.action == 'delete-manifest'"]));

  it('deletes are 401, pushes and pulls pass', async () => {
    const manifest = imageManifest();
    await pushManifest(server.url(), 'team/app', 'v1', manifest);
    expectChallenge(await deleteManifest(server.url(), 'team/app', 'v1'));
    expectChallenge(await deleteManifest(server.url(), 'team/app', manifest.digest));
    const pulled = await getManifest(server.url(), 'team/app', 'v1');
    expectStatus(pulled, 200);
    assert.equal(header(pulled, 'docker-content-digest'), manifest.digest);
  });
});

describe('request variables seen by rules', () => {
  // Rule order matters: `request.from != null` errors when from is absent, which denies and stops, so it comes
  // after the rules that must be able to grant.
  const server = serverWith(() =>
    policyToml('deny', [
      "request.action in ['start-upload', 'get-blob']",
      "request.action == 'mount-blob' && request.namespace == 'nofrom/app' && !has(request.from)",
      "request.action == 'get-manifest' && request.reference == 'v1'",
      "request.action == 'put-manifest' && request.tags == ['t1', 't2']",
      "request.action == 'mount-blob' && request.namespace == 'strict/app' && request.from != null && request.from == 'lib/src'",
    ]),
  );

  it('mount without from: has(request.from) is false, and a rule on request.from != null denies', async () => {
    const blob = uniqueBlob('scenario-24');
    await pushBlob(server.url(), 'lib/src', blob);
    expectBlobCreated(await send(server.url(), 'POST', `/v2/nofrom/app/blobs/uploads/?mount=${blob.digest}`), 'nofrom/app', blob.digest);
    expectChallenge(await send(server.url(), 'POST', `/v2/strict/app/blobs/uploads/?mount=${blob.digest}`));
  });

  it('mount with ?from=lib/src: request.from is that string', async () => {
    const blob = uniqueBlob('scenario-24-from');
    await pushBlob(server.url(), 'lib/src', blob);
    expectBlobCreated(await send(server.url(), 'POST', `/v2/strict/app/blobs/uploads/?mount=${blob.digest}&from=lib/src`), 'strict/app', blob.digest);
    await pushBlob(server.url(), 'lib/other', blob);
    expectChallenge(await send(server.url(), 'POST', `/v2/strict/app/blobs/uploads/?mount=${blob.digest}&from=lib/other`));
  });

  it('GET …/manifests/v1: request.reference is the string "v1"', async () => {
    // Allowed, so the missing manifest is reported; another reference is refused by the policy.
    expectError(await getManifest(server.url(), 'team/app', 'v1'), 404, 'MANIFEST_UNKNOWN');
    expectChallenge(await getManifest(server.url(), 'team/app', 'v2'));
  });

  it('PUT by digest with ?tag=t1&tag=t2: request.tags is [\'t1\', \'t2\']', async () => {
    const manifest: Manifest = imageManifest();
    expectStatus(await putManifest(server.url(), 'team/app', manifest.digest, manifest, { query: '?tag=t1&tag=t2' }), 201);
    expectChallenge(await putManifest(server.url(), 'team/app', manifest.digest, manifest, { query: '?tag=t1' }));
  });
});

describe('global and repository policies combined', () => {
  const server = serverWith(
    () =>
      // Global: allow, except that anything under open/ is refused; prod locks itself with default deny and no
      // rules; open's own allow cannot undo the global refusal.
      `${policyToml('allow', ["has(request.namespace) && request.namespace.startsWith('open/')"])}` +
      '[repository."prod".access_policy]\ndefault = "deny"\n' +
      '[repository."open".access_policy]\ndefault = "allow"\n',
  );

  it('a repository default-deny with no matching rule refuses prod/app', async () => {
    expectChallenge(await request(server.url(), '/v2/prod/app/tags/list'));
  });

  it('an uncovered namespace is decided by the global policy alone', async () => {
    expectError(await request(server.url(), '/v2/other/app/tags/list'), 404, 'NAME_UNKNOWN');
    expectStatus(await request(server.url(), '/v2/'), 200);
  });

  it('a global deny is not overridden by a repository allow', async () => {
    expectChallenge(await request(server.url(), '/v2/open/app/tags/list'));
  });
});

describe('immutability settings per repository', () => {
  const server = serverWith(
    () =>
      '[global]\nimmutable_tags = true\nimmutable_tags_exclusions = ["^latest$"]\n' +
      '[repository."keep"]\nimmutable_tags = false\n' +
      '[repository."dev"]\nimmutable_tags_exclusions = ["^dev-"]\n' +
      '[repository."inherit"]\nimmutable_tags_exclusions = []\n' +
      '[global.access_policy]\ndefault = "allow"\n',
  );

  async function expectProtected(name: string, tag: string): Promise<void> {
    await pushManifest(server.url(), name, tag, imageManifest());
    const moved = await putManifest(server.url(), name, tag, imageManifest());
    expectError(moved, 409, 'DENIED');
    assert.equal(errorMessage(moved), `Tag '${tag}' is immutable and cannot be overwritten`);
  }

  async function expectMutable(name: string, tag: string): Promise<void> {
    await pushManifest(server.url(), name, tag, imageManifest());
    const second = imageManifest();
    await pushManifest(server.url(), name, tag, second);
    assert.equal(header(await getManifest(server.url(), name, tag), 'docker-content-digest'), second.digest);
  }

  it('a repository with immutable_tags = false under a global true is still protected', async () => {
    await expectProtected('keep/app', 'v1');
    await expectMutable('keep/app', 'latest');
  });

  it('a non-empty repository exclusion list replaces the global one', async () => {
    await expectMutable('dev/app', 'dev-1');
    await expectProtected('dev/app', 'latest');
  });

  it('an empty repository list inherits the global exclusions', async () => {
    await expectMutable('inherit/app', 'latest');
    await expectProtected('inherit/app', 'v1');
  });
});

describe('a by-digest push naming a protected tag', () => {
  const server = serverWith(() => '[global]\nimmutable_tags = true\nimmutable_tags_exclusions = ["^latest$"]\n[global.access_policy]\ndefault = "allow"\n');

  it('?tag=latest&tag=v1 with v1 protected at another digest is 409 and latest does not move', async () => {
    const [current, protectedOne, incoming] = [imageManifest(), imageManifest(), imageManifest()];
    await pushManifest(server.url(), 'team/app', 'latest', current);
    await pushManifest(server.url(), 'team/app', 'v1', protectedOne);
    const refused = await putManifest(server.url(), 'team/app', incoming.digest, incoming, { query: '?tag=latest&tag=v1' });
    expectError(refused, 409, 'DENIED');
    assert.equal(errorMessage(refused), "Tag 'v1' is immutable and cannot be overwritten");
    assert.equal(header(await getManifest(server.url(), 'team/app', 'latest'), 'docker-content-digest'), current.digest);
    assert.equal(header(await getManifest(server.url(), 'team/app', 'v1'), 'docker-content-digest'), protectedOne.digest);
  });
});

describe('a caller without push rights pushing a protected tag', () => {
  const server = serverWith(async () =>
    `[global]\nimmutable_tags = true\n${await identityToml('alice', 'alice', 'hunter2')}` +
    policyToml('deny', ["identity.username == 'alice'", "request.action != 'put-manifest'"]),
  );

  it('is refused by the policy (401), never told about immutability (409)', async () => {
    const manifest = imageManifest();
    const alice = { authorization: basicAuth('alice', 'hunter2') };
    expectStatus(await send(server.url(), 'PUT', `/v2/team/app/manifests/v1`, { headers: { ...alice, 'content-type': manifest.mediaType }, body: manifest.bytes }), 201);
    expectChallenge(await putManifest(server.url(), 'team/app', 'v1', imageManifest()));
    expectChallenge(await putManifest(server.url(), 'team/app', 'v1', manifest));
    // The same move by the pusher is the immutability refusal.
    const other = imageManifest();
    expectError(await send(server.url(), 'PUT', `/v2/team/app/manifests/v1`, { headers: { ...alice, 'content-type': other.mediaType }, body: other.bytes }), 409, 'DENIED');
  });
});
