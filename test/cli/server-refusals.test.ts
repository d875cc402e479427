// Configured features whose absence would let through what the operator meant to stop keep the server from
// starting (fail closed), with the reason in the log.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inTempDir, MINIMAL_CONFIG, runCli } from './cli-process.ts';

describe('server start-up refusals', () => {
  it('a required event webhook, which this version cannot deliver, stops the start with exit 1', async () => {
    const config = `${MINIMAL_CONFIG}[global]\nevent_webhooks = ["audit"]\n[event_webhook.audit]\nurl = "http://127.0.0.1:9/hook"\npolicy = "required"\nevents = ["manifest.push"]\n`;
    await inTempDir({ 'config.toml': config }, async (dir) => {
      const result = await runCli(['server'], { cwd: dir, rustLog: 'info' });
      assert.equal(result.code, 1);
      const errors = result.logs.filter((entry) => entry.level === 'ERROR').map((entry) => String(entry.fields.message));
      assert.ok(errors.some((message) => message.includes('policy = "required"') && message.includes('audit')), errors.join('\n'));
      assert.ok(!result.logs.some((entry) => String(entry.fields.message).startsWith('Listening on')), 'nothing listened');
    });
  });
});
