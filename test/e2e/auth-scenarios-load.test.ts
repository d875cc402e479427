// What the server refuses to start with, or denies when nothing is configured (no access policy, broken password
// hashes, clashing usernames, broken TLS, undefined webhooks, bad exclusions, bad token-service settings), through
// the real `angos server`.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { expectChallenge } from '../support/expect.ts';
import { request } from '../support/http.ts';
import { startServer } from '../support/server.ts';
import { argonHash } from './auth-fixtures.ts';

/** A config that must not start: exit 1 before listening, with `reason` (when given) in the load error on stderr. */
async function expectStartFailure(extraToml: string, reason?: RegExp): Promise<void> {
  let started: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    started = await startServer({ extraToml });
  } catch (error) {
    const message = (error as Error).message;
    assert.match(message, /exited with 1 before listening/);
    if (reason !== undefined) assert.match(message, reason);
    return;
  }
  await started.stop();
  assert.fail(`the server started with:\n${extraToml}`);
}

const ALLOW = '[global.access_policy]\ndefault = "allow"\n';

describe('no [global.access_policy]', () => {
  it('denies the API root and the health probe with 401 UNAUTHORIZED and the Basic challenge', async () => {
    // The marker comment keeps the test harness from adding its allow-all policy.
    const server = await startServer({ extraToml: '# no [global.access_policy] on purpose\n' });
    try {
      expectChallenge(await request(server.url, '/v2/'));
      expectChallenge(await request(server.url, '/healthz'));
    } finally {
      await server.stop();
    }
  });
});

describe('load errors of the auth sections', () => {
  it('an empty or malformed password hash stops the start naming an invalid Argon2 hash', async () => {
    for (const hash of ['', 'not-a-hash']) {
      await expectStartFailure(`[auth.identity.alice]\nusername = "alice"\npassword = ${JSON.stringify(hash)}\n${ALLOW}`, /auth\.identity\.alice\.password: invalid Argon2 password hash/);
    }
  });

  it('a username equal to a provider name, or shared by two identities, is a load error', async () => {
    const hash = JSON.stringify(await argonHash('pw'));
    const provider = '[auth.oidc.ci]\nissuer = "https://issuer.example"\n';
    await expectStartFailure(`${provider}[auth.identity.robot]\nusername = "ci"\npassword = ${hash}\n${ALLOW}`, /\bci\b/);
    await expectStartFailure(
      `[auth.identity.one]\nusername = "same"\npassword = ${hash}\n[auth.identity.two]\nusername = "same"\npassword = ${hash}\n${ALLOW}`,
      /\bsame\b/,
    );
  });

  it('a repository naming an undefined webhook is a load error', async () => {
    await expectStartFailure(`[repository."app"]\nauthorization_webhook = "missing"\n${ALLOW}`, /missing/);
  });

  it('an exclusion with look-ahead is a load error', async () => {
    await expectStartFailure(`[global]\nimmutable_tags = true\nimmutable_tags_exclusions = ["^(?!v).*$"]\n${ALLOW}`, /immutable_tags_exclusions/);
  });

  it('a short token-service key, ttl_secs 0 or 86401, or a realm not ending in /token is a load error', async () => {
    const key = (bytes: number) => Buffer.alloc(bytes, 1).toString('base64');
    await expectStartFailure(`[auth.token_service]\nsecret_key = "${key(31)}"\n${ALLOW}`, /secret_key/);
    for (const ttl of [0, 86401]) await expectStartFailure(`[auth.token_service]\nsecret_key = "${key(32)}"\nttl_secs = ${ttl}\n${ALLOW}`, /ttl_secs/);
    await expectStartFailure(`[auth.token_service]\nsecret_key = "${key(32)}"\nrealm = "https://r/tokens"\n${ALLOW}`, /realm/);
  });
});

describe('a broken [server.tls] never serves plaintext', () => {
  it('client_auth = "required" without a CA bundle, unreadable files or a file that is not PEM: exit 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'angos-broken-tls-'));
    try {
      const junk = join(dir, 'junk.pem');
      await writeFile(junk, 'not a certificate\n');
      const tls = (cert: string, key: string, extra = '') =>
        `[server.tls]\nserver_certificate_bundle = ${JSON.stringify(cert)}\nserver_private_key = ${JSON.stringify(key)}\n${extra}${ALLOW}`;
      await expectStartFailure(tls(junk, junk, 'client_auth = "required"\n'), /client_auth|client_ca_bundle/);
      // These fail after the configuration loaded (the files are read at start): exit 1 is the behaviour.
      await expectStartFailure(tls(join(dir, 'absent.pem'), join(dir, 'absent.key')));
      await expectStartFailure(tls(junk, junk));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
