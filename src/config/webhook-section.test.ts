import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFailure as failure, loadConfig as load } from '../../test/support/config-validation.ts';

const OPA = '[auth.webhook.opa]\nurl = "https://opa.internal/v1/allow?tenant=a"\ntimeout_ms = 500\n';

test('a minimal webhook gets the defaults; none configured means an empty list', () => {
  assert.deepEqual(load('').authorizationWebhooks, []);
  assert.deepEqual(load(OPA).authorizationWebhooks, [
    {
      name: 'opa',
      url: 'https://opa.internal/v1/allow?tenant=a',
      timeoutMs: 500,
      credentials: undefined,
      clientCertificateBundle: undefined,
      clientPrivateKey: undefined,
      serverCaBundle: undefined,
      forwardHeaders: [],
      cacheTtlSecs: 60,
    },
  ]);
});

test('every key is read; forward_headers are lower-cased and deduplicated', () => {
  const [webhook] = load(
    `${OPA}bearer_token = "s3cret"\nclient_certificate_bundle = "c.pem"\nclient_private_key = "c.key"\nserver_ca_bundle = "ca.pem"\n` +
      `forward_headers = ["X-Request-ID", "x-request-id", "Authorization"]\ncache_ttl = 0\n`,
  ).authorizationWebhooks;
  assert.deepEqual(webhook?.credentials, { kind: 'bearer', token: 's3cret' });
  assert.equal(webhook?.clientCertificateBundle, 'c.pem');
  assert.equal(webhook?.clientPrivateKey, 'c.key');
  assert.equal(webhook?.serverCaBundle, 'ca.pem');
  assert.deepEqual(webhook?.forwardHeaders, ['x-request-id', 'authorization']);
  assert.equal(webhook?.cacheTtlSecs, 0);
  const basic = load(`${OPA}basic_auth = { username = "reg", password = "pw" }\n`).authorizationWebhooks[0];
  assert.deepEqual(basic?.credentials, { kind: 'basic', username: 'reg', password: 'pw' });
});

test('required keys and URL shape', () => {
  assert.equal(failure('[auth.webhook.opa]\ntimeout_ms = 500\n'), "auth.webhook.opa: missing field 'url'");
  assert.equal(failure('[auth.webhook.opa]\nurl = "https://a"\n'), "auth.webhook.opa: missing field 'timeout_ms'");
  assert.equal(failure('[auth.webhook.opa]\nurl = "/relative"\ntimeout_ms = 5\n'), "auth.webhook.opa.url: expected an absolute http(s) URL, got '/relative'");
  assert.match(failure('[auth.webhook.opa]\nurl = "ftp://a"\ntimeout_ms = 5\n'), /expected an absolute http\(s\) URL/);
  assert.equal(failure('[auth.webhook.opa]\nurl = "https://a"\ntimeout_ms = 0\n'), 'auth.webhook.opa.timeout_ms must be > 0, got 0');
  assert.equal(failure(`${OPA}cache_ttl = -1\n`), 'auth.webhook.opa.cache_ttl must not be negative, got -1');
});

test('credentials: bearer_token and basic_auth together, or half a basic_auth, are load errors that hide the secrets', () => {
  const both = failure(`${OPA}bearer_token = "tok-secret"\nbasic_auth = { username = "u", password = "pw-secret" }\n`);
  assert.equal(both, 'auth.webhook.opa: bearer_token and basic_auth cannot both be set; configure one of them');
  assert.equal(failure(`${OPA}basic_auth = { username = "u" }\n`), "auth.webhook.opa.basic_auth: missing field 'password'");
  assert.equal(failure(`${OPA}basic_auth = { password = "pw" }\n`), "auth.webhook.opa.basic_auth: missing field 'username'");
  const typed = failure(`${OPA}bearer_token = 12345\n`);
  assert.equal(typed, 'auth.webhook.opa.bearer_token: invalid type: expected a string, found an integer');
});

test('client certificate and key come together', () => {
  assert.equal(failure(`${OPA}client_certificate_bundle = "c.pem"\n`), 'auth.webhook.opa: both client_certificate_bundle and client_private_key are required for mTLS');
  assert.equal(failure(`${OPA}client_private_key = "c.key"\n`), 'auth.webhook.opa: both client_certificate_bundle and client_private_key are required for mTLS');
});

test('forward_headers must be header names the registry does not set itself', () => {
  assert.equal(failure(`${OPA}forward_headers = ["Bad Header"]\n`), "auth.webhook.opa.forward_headers: invalid forward_headers entry 'Bad Header'");
  assert.match(failure(`${OPA}forward_headers = [""]\n`), /invalid forward_headers entry ''/);
  assert.match(failure(`${OPA}forward_headers = ["X-Forwarded-For"]\n`), /invalid forward_headers entry 'X-Forwarded-For': X-Forwarded-\* and X-Registry-\*/);
  assert.match(failure(`${OPA}forward_headers = ["x-registry-username"]\n`), /invalid forward_headers entry 'x-registry-username'/);
  assert.match(failure(`${OPA}forward_headers = ["Host"]\n`), /invalid forward_headers entry 'Host': it describes the connection/);
});

test('unknown webhook keys are reported in the warning; references must name a defined webhook', () => {
  assert.deepEqual(load(`${OPA}colour = "red"\n`).warnings, ['Unknown configuration keys ignored: auth.webhook.opa.colour']);
  assert.equal(failure(`${OPA}[global]\nauthorization_webhook = "other"\n`), "Webhook 'other' not found (referenced globally)");
  const config = load(`${OPA}[global]\nauthorization_webhook = "opa"\n[repository."public"]\nauthorization_webhook = ""\n`);
  assert.equal(config.global.authorizationWebhook, 'opa');
  assert.equal(config.repositories[0]?.authorizationWebhook, '');
});
