import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { loadConfig } from '../../../test/support/config-validation.ts';
import type { Config } from '../../config/types.ts';
import type { Action } from '../../policy/actions.ts';
import { authChallenge, BASIC_CHALLENGE } from './challenge.ts';

// A real server on loopback: the challenge reads the live socket (scheme, peer) and headers as in production.
let server: Server;
let port: number;
let config: Config;
let action: Action = 'get-api-version';

const configWith = loadConfig;
const SERVICE = `[auth.token_service]\nsecret_key = "${Buffer.alloc(32).toString('base64')}"\n`;

before(async () => {
  server = createServer((req, res) => res.end(authChallenge(config, req, action)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
after(() => server.close());

/** The raw request bytes go out untouched, so Host can be absent or anything. */
async function challengeFor(head: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.end(`${head}\r\n\r\n`);
  let text = '';
  for await (const chunk of socket) text += String(chunk);
  return text.slice(text.indexOf('\r\n\r\n') + 4);
}

test('without a token service, and for /token itself, the challenge is Basic', async () => {
  config = configWith('');
  assert.equal(await challengeFor('GET /v2/ HTTP/1.1\r\nHost: reg.example\r\nConnection: close'), BASIC_CHALLENGE);
  config = configWith(SERVICE);
  action = 'get-token';
  try {
    assert.equal(await challengeFor('GET /token HTTP/1.1\r\nHost: reg.example\r\nConnection: close'), BASIC_CHALLENGE);
  } finally {
    action = 'get-api-version';
  }
});

test('the realm is derived from the Host header (port kept), else the absolute request target', async () => {
  config = configWith(SERVICE);
  assert.equal(await challengeFor('GET /v2/ HTTP/1.1\r\nHost: reg.example:5000\r\nConnection: close'), 'Bearer realm="http://reg.example:5000/token",service="reg.example:5000"');
  assert.equal(await challengeFor('GET /v2/ HTTP/1.1\r\nHost: [::1]:5000\r\nConnection: close'), 'Bearer realm="http://[::1]:5000/token",service="[::1]:5000"');
  assert.equal(await challengeFor('GET http://abs.example:81/v2/ HTTP/1.0'), 'Bearer realm="http://abs.example:81/token",service="abs.example:81"');
  assert.equal(await challengeFor('GET /v2/ HTTP/1.0'), BASIC_CHALLENGE, 'no host at all');
  assert.equal(await challengeFor('GET /v2/ HTTP/1.1\r\nHost: evil",x="y\r\nConnection: close'), BASIC_CHALLENGE, 'an unusable host');
});

test('X-Forwarded-Proto: https counts only from a trusted proxy', async () => {
  const head = 'GET /v2/ HTTP/1.1\r\nHost: reg.example\r\nX-Forwarded-Proto: HTTPS\r\nConnection: close';
  config = configWith(SERVICE);
  assert.equal(await challengeFor(head), 'Bearer realm="http://reg.example/token",service="reg.example"');
  config = configWith(`[global]\ntrusted_proxies = ["127.0.0.1"]\n${SERVICE}`);
  assert.equal(await challengeFor(head), 'Bearer realm="https://reg.example/token",service="reg.example"');
});
