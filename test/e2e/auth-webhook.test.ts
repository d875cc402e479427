// Webhook authorization (docs/configuration.md, `[auth.webhook.<name>]`): 401 anonymous, 403 authenticated, `""`
// opts a repository out; the decision cache in `[cache.redis]` shared by two server processes and surviving a Redis
// outage.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { requireBinary, runBinary } from '../support/binaries.ts';
import { errorMessage, expectChallenge, expectError, expectStatus } from '../support/expect.ts';
import { request } from '../support/http.ts';
import { uniqueBlob } from '../support/oci.ts';
import { pushBlob } from '../support/registry.ts';
import { startRedis, type RunningRedis } from '../support/redis.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { startWebhookServer, type WebhookCall, type WebhookServer } from '../support/webhook-server.ts';
import { basicAuth, identityToml } from './auth-fixtures.ts';

const DIGEST = `sha256:${'0'.repeat(64)}`;

function webhookToml(webhookUrl: string, extra = ''): string {
  return `[auth.webhook.gate]
url = "${webhookUrl}/gate?tenant=t1"
timeout_ms = 2000
bearer_token = "hook-secret"
forward_headers = ["X-Request-ID"]
[auth.webhook.slow]
url = "${webhookUrl}/slow"
timeout_ms = 200
forward_headers = ["X-Request-ID"]
[global]
authorization_webhook = "gate"
[repository."public"]
authorization_webhook = ""
[repository."slow"]
authorization_webhook = "slow"
[repository."hub"]
[[repository."hub".upstream]]
url = "https://registry.invalid"
${extra}`;
}

/** A `/metrics` series value (0 when absent). Scraping goes through the webhook too, which allows it. */
async function metric(baseUrl: string, series: string): Promise<number> {
  const response = await request(baseUrl, '/metrics', { headers: { 'x-request-id': `metrics-${randomUUID()}` } });
  expectStatus(response, 200);
  const line = response.body.toString('utf8').split('\n').find((entry) => entry.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('authorization webhook', () => {
  let webhook: WebhookServer;
  let server: RunningServer;
  const alice = basicAuth('alice', 'hunter2');

  before(async () => {
    webhook = await startWebhookServer();
    server = await startServer({ extraToml: webhookToml(webhook.url, await identityToml('alice-id', 'alice', 'hunter2')) });
  });
  after(async () => {
    await server?.stop();
    await webhook?.close();
  });

  /** Every request carries a fresh X-Request-ID (a forwarded header), so its calls are told apart and its decisions are not shared. */
  const send = (path: string, options: { id?: string; method?: string; authorization?: string; host?: string } = {}) => {
    const headers: Record<string, string> = { 'x-request-id': options.id ?? randomUUID() };
    if (options.authorization !== undefined) headers.authorization = options.authorization;
    if (options.host !== undefined) headers.host = options.host;
    return request(server.url, path, { method: options.method ?? 'GET', headers });
  };
  const callsFor = (id: string): WebhookCall[] => webhook.calls.filter((call) => call.headers['x-request-id']?.[0] === id);
  const answering = (status: number | 'hang') => {
    webhook.answer = () => status;
  };

  it('2xx allows; the identical second request is answered from the cache without a call', async () => {
    answering(200);
    const id = randomUUID();
    const cachedBefore = await metric(server.url, 'webhook_authorization_requests_total{webhook="gate",result="cached_allow"}');
    expectStatus(await send('/v2/', { id }), 200);
    expectStatus(await send('/v2/', { id }), 200);
    assert.equal(callsFor(id).length, 1);
    assert.equal(await metric(server.url, 'webhook_authorization_requests_total{webhook="gate",result="cached_allow"}'), cachedBefore + 1);
  });

  it('401 or 403 from the webhook deny: 401 with the challenge anonymously, 403 DENIED when authenticated; denials are cached', async () => {
    answering(403);
    const id = randomUUID();
    expectChallenge(await send('/v2/', { id }));
    answering(200);
    expectChallenge(await send('/v2/', { id }));
    assert.equal(callsFor(id).length, 1, 'the denial came from the cache the second time');

    answering(401);
    const authenticated = await send('/v2/_catalog', { authorization: alice });
    expectError(authenticated, 403, 'DENIED');
    assert.equal(authenticated.headers['www-authenticate'], undefined);
    answering(200);
  });

  it('5xx or a redirect deny without being cached: the next request asks again', async () => {
    for (const status of [500, 503, 302]) {
      const id = randomUUID();
      answering(status);
      expectChallenge(await send('/v2/', { id }));
      answering(200);
      expectStatus(await send('/v2/', { id }), 200);
      assert.equal(callsFor(id).length, 2, `${status} was not cached`);
    }
  });

  it('a webhook slower than timeout_ms denies as a transport error', async () => {
    const before = await metric(server.url, 'webhook_authorization_requests_total{webhook="slow",result="transport_error"}');
    webhook.answer = (call) => (call.url === '/slow' ? 'hang' : 200);
    const id = randomUUID();
    expectChallenge(await send('/v2/slow/app/tags/list', { id }));
    webhook.answer = () => 200;
    assert.equal(callsFor(id).length, 1);
    assert.equal(await metric(server.url, 'webhook_authorization_requests_total{webhook="slow",result="transport_error"}'), before + 1);
  });

  it('a repository with authorization_webhook = "" never calls it; other repositories, uncovered namespaces and namespace-less actions do', async () => {
    answering(403);
    const skipped = randomUUID();
    expectError(await send('/v2/public/app/tags/list', { id: skipped }), 404, 'NAME_UNKNOWN');
    assert.equal(callsFor(skipped).length, 0);
    for (const path of ['/v2/other/app/tags/list', '/v2/_catalog', '/v2/']) {
      const id = randomUUID();
      expectChallenge(await send(path, { id }));
      assert.deepEqual(callsFor(id).map((call) => call.url), ['/gate?tenant=t1'], path);
    }
    const slow = randomUUID();
    expectChallenge(await send('/v2/slow/app/tags/list', { id: slow }));
    assert.deepEqual(callsFor(slow).map((call) => call.url), ['/slow']);
    answering(200);
  });

  it('a push into a pull-through repository is refused before any webhook call', async () => {
    const id = randomUUID();
    const response = await send('/v2/hub/app/blobs/uploads/', { id, method: 'POST' });
    expectChallenge(response);
    assert.equal(errorMessage(response), 'Push operations are not supported on pull-through cache repositories: they are read-only caches of their upstreams');
    assert.equal(callsFor(id).length, 0);
  });

  it('the webhook receives the request context, the identity, the forwarded header and its own Bearer token', async () => {
    answering(403);
    const id = randomUUID();
    expectError(await send(`/v2/team/app/manifests/v1?probe=1`, { id, method: 'PUT', authorization: alice, host: 'reg.example' }), 403, 'DENIED');
    const [call] = callsFor(id);
    assert.ok(call, 'the webhook was called');
    assert.equal(call.method, 'GET');
    assert.equal(call.url, '/gate?tenant=t1');
    const expected: Record<string, string[]> = {
      'x-forwarded-method': ['PUT'],
      'x-forwarded-proto': ['http'],
      'x-forwarded-host': ['reg.example'],
      'x-forwarded-uri': ['/v2/team/app/manifests/v1?probe=1'],
      'x-forwarded-for': ['127.0.0.1'],
      'x-registry-action': ['put-manifest'],
      'x-registry-namespace': ['team/app'],
      'x-registry-reference': ['v1'],
      'x-registry-username': ['alice'],
      'x-registry-identity-id': ['alice-id'],
      'x-request-id': [id],
      // The webhook's own credentials, not the client's Basic header.
      authorization: ['Bearer hook-secret'],
    };
    for (const [name, values] of Object.entries(expected)) assert.deepEqual(call.headers[name], values, name);
    assert.equal(call.headers['x-registry-digest'], undefined);

    const blob = randomUUID();
    expectChallenge(await send(`/v2/team/app/blobs/${DIGEST}`, { id: blob }));
    const [blobCall] = callsFor(blob);
    assert.deepEqual(blobCall?.headers['x-registry-digest'], [DIGEST]);
    assert.deepEqual(blobCall?.headers['x-registry-action'], ['get-blob']);
    assert.equal(blobCall?.headers['x-registry-username'], undefined);
    answering(200);
  });

  it('a mount source must be readable by the webhook too: refused there, the mount becomes an upload session', async () => {
    const blob = uniqueBlob('mount');
    expectStatus(await pushBlob(server.url, 'a/src', blob), 201);
    const mount = `/v2/b/app/blobs/uploads/?mount=${blob.digest}&from=a/src`;
    webhook.answer = (call) => (call.headers['x-registry-action']?.[0] === 'get-blob' && call.headers['x-registry-namespace']?.[0] === 'a/src' ? 403 : 200);
    const refused = randomUUID();
    expectStatus(await send(mount, { id: refused, method: 'POST' }), 202);
    assert.deepEqual(callsFor(refused).map((call) => call.headers['x-registry-action']?.[0]), ['mount-blob', 'get-blob']);
    answering(200);
    expectStatus(await send(mount, { id: randomUUID(), method: 'POST' }), 201);
  });

  it('no secret reaches the logs or the metrics', async () => {
    const metrics = await request(server.url, '/metrics', { headers: { 'x-request-id': randomUUID() } });
    assert.ok(!metrics.body.toString('utf8').includes('hook-secret'));
    assert.ok(!JSON.stringify(server.logs).includes('hook-secret'));
  });
});

it('an unreadable webhook certificate file stops the server at start-up', async () => {
  const toml = `[auth.webhook.gate]\nurl = "https://127.0.0.1:1/"\ntimeout_ms = 100\nserver_ca_bundle = "/nonexistent/ca.pem"\n[global]\nauthorization_webhook = "gate"\n`;
  await assert.rejects(startServer({ extraToml: toml }), /server exited with 1 before listening/);
});

describe('authorization decisions cached in Redis, shared by two servers, through an outage', () => {
  let redis: RunningRedis | undefined;
  let webhook: WebhookServer;
  const servers: RunningServer[] = [];

  before(async () => {
    webhook = await startWebhookServer();
  });
  after(async () => {
    for (const server of servers) await server.stop();
    await redis?.kill();
    await webhook?.close();
  });

  it('one server caches a decision the other reuses; a Redis outage costs a call per request and one error line; caching resumes', async (t) => {
    if (!requireBinary(t, 'redis-server', 'redis-cli')) return;
    redis = await startRedis();
    const toml = `[cache.redis]\nurl = "${redis.url}"\nkey_prefix = "angos-test:"\n${webhookToml(webhook.url)}`;
    servers.push(await startServer({ extraToml: toml }), await startServer({ extraToml: toml }));
    const [first, second] = servers as [RunningServer, RunningServer];
    // Same Host on both: the forwarded context, and so the cache key, must be identical.
    const send = (server: RunningServer, id: string) => request(server.url, '/v2/', { headers: { host: 'reg.example', 'x-request-id': id } });
    const callsFor = (id: string) => webhook.calls.filter((call) => call.headers['x-request-id']?.[0] === id).length;

    const shared = randomUUID();
    expectStatus(await send(first, shared), 200);
    expectStatus(await send(second, shared), 200);
    assert.equal(callsFor(shared), 1, 'the second server found the decision in Redis');
    const keys = (await runBinary('redis-cli', ['-p', String(redis.port), '--scan', '--pattern', 'angos-test:webhook:gate:*'])).stdout.toString();
    assert.match(keys, /^angos-test:webhook:gate:[0-9a-f]{64}$/m);

    await redis.kill();
    const during = randomUUID();
    for (let attempt = 0; attempt < 3; attempt++) expectStatus(await send(first, during), 200);
    assert.equal(callsFor(during), 3, 'every request reached the webhook while Redis was down');
    webhook.answer = () => 403;
    expectChallenge(await send(first, randomUUID()));
    webhook.answer = () => 200;
    const outageLines = () => first.logs.filter((entry) => entry.level === 'ERROR' && entry.target === 'angos::cache::redis');
    assert.equal(outageLines().length, 1, `one error line for the outage: ${JSON.stringify(outageLines())}`);
    assert.ok(!JSON.stringify(first.logs).includes('hook-secret'));

    redis = await startRedis({ port: redis.port });
    // Reconnection is asynchronous: probe with fresh ids until a decision is served from Redis again.
    let resumed = false;
    for (let attempt = 0; attempt < 100 && !resumed; attempt++) {
      const id = randomUUID();
      expectStatus(await send(first, id), 200);
      expectStatus(await send(second, id), 200);
      resumed = callsFor(id) === 1;
      if (!resumed) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(resumed, 'decisions are shared through Redis again after it returned');
    assert.equal(outageLines().length, 1, 'recovery logs no further error');
    assert.ok(first.logs.some((entry) => (entry.fields as { message?: string }).message === 'Redis cache available again'));
  });
});
