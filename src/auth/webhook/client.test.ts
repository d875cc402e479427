import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { requireBinary } from '../../../test/support/binaries.ts';
import { startWebhookServer, webhookConfig, type WebhookServer } from '../../../test/support/webhook-server.ts';
import { freePort } from '../../../test/support/free-port.ts';
import { startPrivateCaServer } from '../../../test/support/private-ca-server.ts';
import { callWebhook, webhookAgent } from './client.ts';

describe('callWebhook over plain HTTP', () => {
  let server: WebhookServer;
  before(async () => {
    server = await startWebhookServer();
  });
  after(() => server.close());

  it('sends a bodiless GET to the URL verbatim, with the headers and the configured Bearer token', async () => {
    server.calls.length = 0;
    const webhook = webhookConfig(`${server.url}/v1/allow?tenant=a&x=%20`, { credentials: { kind: 'bearer', token: 'tok' } });
    const outcome = await callWebhook(webhook, [['X-Registry-Action', 'get-blob'], ['X-Registry-Certificate-O', 'A'], ['X-Registry-Certificate-O', 'B']]);
    assert.deepEqual(outcome, { result: 'allow', status: 200 });
    const [call] = server.calls;
    assert.equal(call?.method, 'GET');
    assert.equal(call?.url, '/v1/allow?tenant=a&x=%20');
    assert.deepEqual(call?.headers['x-registry-action'], ['get-blob']);
    assert.deepEqual(call?.headers['x-registry-certificate-o'], ['A', 'B']);
    assert.deepEqual(call?.headers.authorization, ['Bearer tok']);
    assert.equal(call?.headers['content-length'], undefined);
    assert.equal(call?.headers['transfer-encoding'], undefined);
  });

  it('Basic credentials are sent as such', async () => {
    server.calls.length = 0;
    await callWebhook(webhookConfig(server.url, { credentials: { kind: 'basic', username: 'reg', password: 'pw' } }), []);
    assert.deepEqual(server.calls[0]?.headers.authorization, [`Basic ${Buffer.from('reg:pw').toString('base64')}`]);
  });

  it('2xx allows, 401 and 403 deny, any other status is unavailable and a redirect is not followed', async () => {
    const cases: Array<[number, string]> = [[200, 'allow'], [204, 'allow'], [401, 'deny'], [403, 'deny'], [302, 'unavailable'], [404, 'unavailable'], [429, 'unavailable'], [500, 'unavailable'], [503, 'unavailable']];
    for (const [status, result] of cases) {
      server.calls.length = 0;
      server.answer = () => status;
      assert.deepEqual(await callWebhook(webhookConfig(server.url), []), { result, status }, String(status));
      assert.equal(server.calls.length, 1, `exactly one call for ${status}`);
    }
    server.answer = () => 200;
  });

  it('no answer within timeout_ms is a transport error', async () => {
    server.answer = () => 'hang';
    const outcome = await callWebhook(webhookConfig(server.url, { timeoutMs: 50 }), []);
    server.answer = () => 200;
    assert.equal(outcome.result, 'transport_error');
    assert.match('error' in outcome ? outcome.error : '', /no answer within 50 ms/);
  });
});

it('a webhook nobody listens on is a transport error', async () => {
  assert.equal((await callWebhook(webhookConfig(`http://127.0.0.1:${await freePort()}/`), [])).result, 'transport_error');
});

it('an unreadable certificate file fails the agent with a message naming the key and path', async () => {
  const webhook = webhookConfig('https://127.0.0.1:1/', { serverCaBundle: '/nonexistent/ca.pem' });
  await assert.rejects(webhookAgent(webhook), /auth\.webhook\.opa: cannot read server_ca_bundle '\/nonexistent\/ca\.pem': ENOENT/);
  assert.equal((await callWebhook(webhook, [])).result, 'transport_error');
});

it('HTTPS: the server CA bundle is trusted and the client certificate is presented', async (t) => {
  if (!requireBinary(t, 'openssl')) return;
  const server = await startPrivateCaServer(() => '');
  t.after(() => server.close());
  const { files, clients } = server;
  const url = `${server.url}/allow`;
  const trusted = webhookConfig(url, { serverCaBundle: files.caCert, clientCertificateBundle: files.clientCert, clientPrivateKey: files.clientKey });
  assert.deepEqual(await callWebhook(trusted, []), { result: 'allow', status: 200 });
  assert.deepEqual(clients, ['build']);
  // Without the bundle the private CA is not trusted: the handshake fails and the request is denied.
  assert.equal((await callWebhook(webhookConfig(url), [])).result, 'transport_error');
  // Without a client certificate this server refuses the handshake.
  assert.equal((await callWebhook(webhookConfig(url, { serverCaBundle: files.caCert }), [])).result, 'transport_error');
  assert.deepEqual(clients, ['build']);
});
