import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryCache } from '../../cache/memory-cache.ts';
import { RedisCache } from '../../cache/redis-cache.ts';
import type { Config } from '../../config/types.ts';
import { webhookAuthorizationRequestsTotal } from '../../observability/metrics.ts';
import type { Namespace } from '../../oci/name.ts';
import { anonymousIdentity } from '../../policy/identity.ts';
import { requestVariables } from '../../policy/request-variables.ts';
import { loadConfig } from '../../../test/support/config-validation.ts';
import { freePort } from '../../../test/support/free-port.ts';
import { withIncomingRequest } from '../../../test/support/incoming-request.ts';
import { startWebhookServer, type WebhookServer } from '../../../test/support/webhook-server.ts';
import type { Cache } from '../../cache/cache.ts';
import { authorizeByWebhook, selectWebhook } from './authorize.ts';

const configWith = loadConfig;

const WEBHOOKS = (url: string, ttl = 60) =>
  `[auth.webhook.global]\nurl = "${url}/global"\ntimeout_ms = 2000\ncache_ttl = ${ttl}\nforward_headers = ["X-Tenant"]\n` +
  `[auth.webhook.team]\nurl = "${url}/team"\ntimeout_ms = 2000\n` +
  `[global]\nauthorization_webhook = "global"\n[repository."public"]\nauthorization_webhook = ""\n[repository."team"]\nauthorization_webhook = "team"\n[repository."plain"]\n`;

async function count(webhook: string, result: string): Promise<number> {
  const metric = await webhookAuthorizationRequestsTotal.get();
  return metric.values.find((value) => value.labels.webhook === webhook && value.labels.result === result)?.value ?? 0;
}

/** The webhook decision for a `list-tags` on `ns` (or `GET /v2/` without one), sent with `headers`. */
function decide(config: Config, cache: Cache, ns?: string, headers: Record<string, string> = {}) {
  const request = ns === undefined ? requestVariables({ action: 'get-api-version' }) : requestVariables({ action: 'list-tags', ns: ns as Namespace, n: 10 });
  // A fixed Host: each call runs on a new loopback port, and the Host is part of the forwarded context.
  return withIncomingRequest(ns === undefined ? '/v2/' : `/v2/${ns}/tags/list`, { host: 'reg.example', ...headers }, (req) =>
    authorizeByWebhook(config, cache, { req, identity: anonymousIdentity('127.0.0.1'), request }));
}

it('selection: the repository webhook, none for "", else the global one', () => {
  const config = configWith(WEBHOOKS('http://127.0.0.1:1'));
  assert.equal(selectWebhook(config, 'team/app')?.name, 'team');
  assert.equal(selectWebhook(config, 'public/app'), undefined);
  assert.equal(selectWebhook(config, 'plain/app')?.name, 'global');
  assert.equal(selectWebhook(config, 'elsewhere/app')?.name, 'global');
  assert.equal(selectWebhook(config, undefined)?.name, 'global');
  assert.equal(selectWebhook(configWith(''), 'team/app'), undefined);
});

describe('authorizeByWebhook', () => {
  let server: WebhookServer;
  let config: Config;
  let cache: MemoryCache;
  before(async () => {
    server = await startWebhookServer();
    config = configWith(WEBHOOKS(server.url));
  });
  beforeEach(() => {
    server.calls.length = 0;
    server.answer = () => 200;
    cache = new MemoryCache();
  });
  after(() => server.close());

  it('an allow is cached: the identical second request does not reach the webhook', async () => {
    const cachedBefore = await count('global', 'cached_allow');
    assert.deepEqual(await decide(config, cache, 'plain/app'), { allowed: true });
    assert.deepEqual(await decide(config, cache, 'plain/app'), { allowed: true });
    assert.equal(server.calls.length, 1);
    assert.equal(server.calls[0]?.url, '/global');
    assert.equal(await count('global', 'cached_allow'), cachedBefore + 1);
  });

  it('a deny (401/403) is cached too and names the webhook', async () => {
    server.answer = () => 403;
    const denied = { allowed: false, reason: 'Access denied', deniedBy: 'auth.webhook.global' };
    assert.deepEqual(await decide(config, cache), denied);
    server.answer = () => 200;
    assert.deepEqual(await decide(config, cache), denied);
    assert.equal(server.calls.length, 1);
  });

  it('an unavailable webhook denies and is asked again next time', async () => {
    const before = await count('global', 'unavailable');
    server.answer = () => 500;
    assert.equal((await decide(config, cache)).allowed, false);
    server.answer = () => 200;
    assert.equal((await decide(config, cache)).allowed, true);
    assert.equal(server.calls.length, 2);
    assert.equal(await count('global', 'unavailable'), before + 1);
  });

  it('requests differing in a forwarded header are decided separately; cache_ttl = 0 asks every time', async () => {
    await decide(config, cache, undefined, { 'X-Tenant': 'a' });
    await decide(config, cache, undefined, { 'X-Tenant': 'b' });
    await decide(config, cache, undefined, { 'X-Tenant': 'a' });
    assert.deepEqual(server.calls.map((call) => call.headers['x-tenant']), [['a'], ['b']]);
    server.calls.length = 0;
    const uncached = configWith(WEBHOOKS(server.url, 0));
    await decide(uncached, cache);
    await decide(uncached, cache);
    assert.equal(server.calls.length, 2);
  });

  it('a repository opting out never calls a webhook; a repository naming one calls it', async () => {
    server.answer = () => 403;
    assert.deepEqual(await decide(config, cache, 'public/app'), { allowed: true });
    assert.equal(server.calls.length, 0);
    assert.equal((await decide(config, cache, 'team/app')).allowed, false);
    assert.deepEqual(server.calls.map((call) => call.url), ['/team']);
  });

  it('an unreadable cache is a miss and an unwritable one changes nothing: the webhook still decides', async () => {
    const broken = new RedisCache(`redis://127.0.0.1:${await freePort()}`, '', { connectTimeoutMs: 500 });
    try {
      assert.deepEqual(await decide(config, broken), { allowed: true });
      server.answer = () => 401;
      assert.equal((await decide(config, broken)).allowed, false);
      assert.equal(server.calls.length, 2);
    } finally {
      await broken.close();
    }
  });
});
