import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFailure as failure, loadConfig as load } from '../../test/support/config-validation.ts';

const AUDIT = '[event_webhook.audit]\nurl = "https://audit.internal/registry"\npolicy = "optional"\nevents = ["manifest.push"]\n';

test('a minimal event webhook gets the defaults; none configured means an empty list', () => {
  assert.deepEqual(load('').eventWebhooks, []);
  assert.deepEqual(load(AUDIT).eventWebhooks, [
    {
      name: 'audit',
      url: 'https://audit.internal/registry',
      policy: 'optional',
      events: ['manifest.push'],
      token: undefined,
      timeoutMs: 5000,
      maxRetries: 0,
      repositoryFilter: undefined,
    },
  ]);
});

test('every key is read; events are deduplicated in order; names keep file order', () => {
  const [audit, chat] = load(
    `${AUDIT.replace('["manifest.push"]', '["tag.delete", "blob.push", "tag.delete", "manifest.pull", "blob.pull"]')}` +
      'token = "hmac-key"\ntimeout_ms = 250\nmax_retries = 16\nrepository_filter = ["^prod$", "(?i)^STAGING"]\n' +
      '[event_webhook.chat]\nurl = "http://chat"\npolicy = "async"\nevents = ["tag.create"]\nrepository_filter = []\n',
  ).eventWebhooks;
  assert.deepEqual(audit!.events, ['tag.delete', 'blob.push', 'manifest.pull', 'blob.pull']);
  assert.deepEqual([audit!.token, audit!.timeoutMs, audit!.maxRetries], ['hmac-key', 250, 16]);
  assert.ok(audit!.repositoryFilter![0]!.test('prod') && !audit!.repositoryFilter![0]!.test('production'));
  assert.ok(audit!.repositoryFilter![1]!.test('staging-eu'));
  assert.deepEqual([chat!.name, chat!.policy, chat!.repositoryFilter], ['chat', 'async', []]);
});

test('max_retries defaults to 3 for a required webhook, 0 otherwise', () => {
  const retries = (policy: string) => load(AUDIT.replace('"optional"', `"${policy}"`)).eventWebhooks[0]!.maxRetries;
  assert.deepEqual([retries('required'), retries('optional'), retries('async')], [3, 0, 0]);
  assert.equal(load(`${AUDIT.replace('"optional"', '"required"')}max_retries = 0\n`).eventWebhooks[0]!.maxRetries, 0);
});

test('events = [], token = "", max_retries = 17 and a bad repository_filter fail with the documented messages', () => {
  assert.equal(failure(AUDIT.replace('["manifest.push"]', '[]')), 'event_webhook.audit.events: event webhook must have at least one event');
  assert.equal(failure(`${AUDIT}token = ""\n`), 'event_webhook.audit.token: event webhook token must not be empty');
  assert.equal(failure(`${AUDIT}max_retries = 17\n`), 'event_webhook.audit.max_retries: max_retries=17 exceeds the supported maximum of 16');
  assert.match(failure(`${AUDIT}repository_filter = ["ok", "[bad"]\n`), /^event_webhook\.audit\.repository_filter\[1\]: invalid regex '\[bad'/);
  assert.match(failure(`${AUDIT}repository_filter = ["(?<=x)y"]\n`), /^event_webhook\.audit\.repository_filter\[0\]: invalid regex '\(\?<=x\)y': look-around is not supported/);
});

test('policy, events, url and timeout: required, known values only', () => {
  assert.equal(failure(AUDIT.replace('"optional"', '"sometimes"')), "event_webhook.audit.policy: expected one of 'required', 'optional', 'async', got 'sometimes'");
  assert.equal(failure(AUDIT.replace('policy = "optional"\n', '')), "event_webhook.audit: missing field 'policy'");
  assert.equal(failure(AUDIT.replace('events = ["manifest.push"]\n', '')), "event_webhook.audit: missing field 'events'");
  assert.equal(failure(AUDIT.replace('url = "https://audit.internal/registry"\n', '')), "event_webhook.audit: missing field 'url'");
  assert.match(failure(AUDIT.replace('"manifest.push"', '"manifest.push", "image.push"')), /^event_webhook\.audit\.events\[1\]: unknown event 'image\.push'/);
  assert.equal(failure(AUDIT.replace('https://audit.internal/registry', 'audit.internal')), "event_webhook.audit.url: expected an absolute http(s) URL, got 'audit.internal'");
  assert.equal(failure(`${AUDIT}timeout_ms = 0\n`), 'event_webhook.audit.timeout_ms must be > 0, got 0');
  assert.equal(failure(`${AUDIT}max_retries = -1\n`), 'event_webhook.audit.max_retries must not be negative, got -1');
});

test('the token is a secret: a type error names it without showing it; unknown keys are reported', () => {
  assert.equal(failure(`${AUDIT}token = 424242\n`), 'event_webhook.audit.token: invalid type: expected a string, found an integer');
  assert.deepEqual(load(`${AUDIT}colour = "red"\n`).warnings, ['Unknown configuration keys ignored: event_webhook.audit.colour']);
});

test('references resolve against the typed webhooks', () => {
  assert.deepEqual(load(`[global]\nevent_webhooks = ["audit"]\n${AUDIT}`).global.eventWebhooks, ['audit']);
  assert.equal(failure(`[global]\nevent_webhooks = ["audit", "chat"]\n${AUDIT}`), "Event webhook 'chat' not found (referenced globally)");
  assert.equal(failure(`[repository."a"]\nevent_webhooks = ["opa"]\n${AUDIT}[auth.webhook.opa]\nurl = "https://opa"\ntimeout_ms = 1\n`), "Event webhook 'opa' not found (referenced in 'a' repository)");
});
