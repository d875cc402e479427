// Authorization cases that need a TLS listener or a decision cache switched off: one X-Registry-Certificate-O per
// organization, the decision-cache key and cache_ttl = 0, and the Bearer realm derived over TLS. Certificates are
// made by openssl; the webhook is a real loopback HTTP server.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findBinary, requireBinary } from '../support/binaries.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { tlsGet } from '../support/tls-get.ts';
import { startWebhookServer, type WebhookCall, type WebhookServer } from '../support/webhook-server.ts';
import { makeCertificates, type CertificateFiles } from './auth-fixtures.ts';

const SECRET = Buffer.alloc(32, 9).toString('base64');

describe('TLS listener with optional client certificates, a webhook and the token service', () => {
  let files: CertificateFiles | undefined;
  let ca: Buffer;
  let client: { cert: Buffer; key: Buffer };
  let webhook: WebhookServer;
  let server: RunningServer | undefined;

  before(async () => {
    // Each test reports the missing binary (skip locally, fail in CI); the hook only avoids a useless start.
    if (findBinary('openssl') === undefined) return;
    files = await makeCertificates(await mkdtemp(join(tmpdir(), 'angos-scenarios-tls-')));
    ca = await readFile(files.caCert);
    client = { cert: await readFile(files.clientCert), key: await readFile(files.clientKey) };
    webhook = await startWebhookServer();
    server = await startServer({
      extraToml:
        `[server.tls]\nserver_certificate_bundle = ${JSON.stringify(files.serverCert)}\nserver_private_key = ${JSON.stringify(files.serverKey)}\n` +
        `client_ca_bundle = ${JSON.stringify(files.caCert)}\nclient_auth = "optional"\n` +
        `[auth.token_service]\nsecret_key = "${SECRET}"\n` +
        `[auth.webhook.gate]\nurl = "${webhook.url}/gate"\ntimeout_ms = 2000\nforward_headers = ["X-Request-ID"]\n` +
        `[auth.webhook.fresh]\nurl = "${webhook.url}/fresh"\ntimeout_ms = 2000\ncache_ttl = 0\nforward_headers = ["X-Request-ID"]\n` +
        `[global]\nauthorization_webhook = "gate"\n[repository."fresh"]\nauthorization_webhook = "fresh"\n` +
        // The API root is refused to everybody, so its 401 shows the challenge; everything else is allowed.
        `[global.access_policy]\ndefault = "deny"\nrules = ["request.action != 'get-api-version'"]\n`,
    });
  });
  after(async () => {
    await server?.stop();
    await webhook?.close();
    if (files) await rm(files.dir, { recursive: true, force: true });
  });

  const callsFor = (id: string): WebhookCall[] => webhook.calls.filter((call) => call.headers['x-request-id']?.[0] === id);

  it('the webhook gets one X-Registry-Certificate-O per organization, in subject order', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const id = randomUUID();
    const response = await tlsGet(server!.port, '/v2/team/app/tags/list', { ca, ...client, headers: { 'x-request-id': id } });
    assert.equal(response.status, 404, response.body);
    const [call] = callsFor(id);
    assert.ok(call, 'the webhook was called');
    assert.deepEqual(call.headers['x-registry-certificate-o'], ['Platform', 'Ops']);
    assert.deepEqual(call.headers['x-registry-certificate-cn'], ['build']);
    assert.deepEqual(call.headers['x-forwarded-proto'], ['https']);
  });

  it('a decision is reused only for an identical forwarded context', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const [one, two] = [randomUUID(), randomUUID()];
    for (const id of [one, one, two]) {
      assert.equal((await tlsGet(server!.port, '/v2/team/app/tags/list', { ca, headers: { 'x-request-id': id } })).status, 404);
    }
    assert.equal(callsFor(one).length, 1, 'the identical request was answered from the cache');
    assert.equal(callsFor(two).length, 1, 'a request differing only in a forwarded header asked again');
  });

  it('cache_ttl = 0 calls the webhook every time', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const id = randomUUID();
    for (let attempt = 0; attempt < 3; attempt++) {
      assert.equal((await tlsGet(server!.port, '/v2/fresh/app/tags/list', { ca, headers: { 'x-request-id': id } })).status, 404);
    }
    assert.deepEqual(callsFor(id).map((call) => call.url), ['/fresh', '/fresh', '/fresh']);
  });

  it('an anonymous 401 over TLS advertises the https realm of the Host it was sent to', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const response = await tlsGet(server!.port, '/v2/', { ca, headers: { host: 'reg.example', 'x-request-id': randomUUID() } });
    assert.equal(response.status, 401, response.body);
    assert.equal(response.headers['www-authenticate'], 'Bearer realm="https://reg.example/token",service="reg.example"');
    assert.equal((JSON.parse(response.body) as { errors: Array<{ code: string }> }).errors[0]?.code, 'UNAUTHORIZED');
  });

  it('neither the token-service key nor a minted token reaches the logs or /metrics', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const minted = await tlsGet(server!.port, '/token', { ca, headers: { 'x-request-id': randomUUID() } });
    assert.equal(minted.status, 200, minted.body);
    const { token } = JSON.parse(minted.body) as { token: string };
    const used = await tlsGet(server!.port, '/v2/team/app/tags/list', { ca, headers: { authorization: `Bearer ${token}`, 'x-request-id': randomUUID() } });
    assert.equal(used.status, 404, used.body);
    const metrics = await tlsGet(server!.port, '/metrics', { ca, headers: { 'x-request-id': randomUUID() } });
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /auth_attempts_total\{method="token",result="success"\} [1-9]/);
    for (const text of [metrics.body, JSON.stringify(server!.logs)]) {
      assert.ok(!text.includes(SECRET), 'the key is not exposed');
      assert.ok(!text.includes(token), 'the token is not exposed');
    }
  });
});
