import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'smol-toml';
import { hashPassword } from '../cli/argon.ts';
import type { Config } from '../config/types.ts';
import { validateConfig } from '../config/validate.ts';
import { errorAnswer } from '../http/errors.ts';
import { authAttemptsTotal } from '../observability/metrics.ts';
import { MemoryCache } from '../cache/memory-cache.ts';
import { authenticate, INVALID_BASIC_CREDENTIALS } from './authenticate.ts';

// A real HTTP server on loopback: `authenticate` reads the live socket and headers exactly as in production.
let server: Server;
let port: number;
let config: Config;

async function configWith(extra: string): Promise<Config> {
  const hash = await hashPassword('hunter2');
  const toml =
    '[server]\nbind_address = "127.0.0.1"\n[blob_store.fs]\nroot_dir = "/data"\n' +
    `[auth.identity.alice-id]\nusername = "alice"\npassword = "${hash}"\n${extra}`;
  return validateConfig(parse(toml, { integersAsBigInt: true }));
}

before(async () => {
  config = await configWith('');
  server = createServer((req, res) => {
    authenticate(config, req, new MemoryCache()).then(
      (result) => res.end(JSON.stringify(result)),
      (error: unknown) => {
        res.statusCode = errorAnswer(error, req.method).status;
        res.end(JSON.stringify({ error: (error as Error).message }));
      },
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

after(() => server.close());

function ask(headers: Record<string, string | string[]> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end();
  });
}

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

async function attempts(method: string, result: string): Promise<number> {
  const metric = await authAttemptsTotal.get();
  return metric.values.find((v) => v.labels.method === method && v.labels.result === result)?.value ?? 0;
}

test('right Basic password: identity id is the table key, username the username, client_ip the peer', async () => {
  const before = await attempts('basic', 'success');
  const { status, body } = await ask(basic('alice', 'hunter2'));
  assert.equal(status, 200);
  assert.deepEqual(body, {
    identity: { id: 'alice-id', username: 'alice', clientIp: '127.0.0.1', certificate: { commonNames: [], organizations: [] }, oidc: null },
    method: 'basic',
    fromRegistryToken: false,
  });
  assert.equal(await attempts('basic', 'success'), before + 1);
});

test('wrong password, unknown user, and case-different username are 401 Invalid basic auth credentials', async () => {
  const before = await attempts('basic', 'failed');
  for (const headers of [basic('alice', 'hunter3'), basic('mallory', 'hunter2'), basic('Alice', 'hunter2')]) {
    const { status, body } = await ask(headers);
    assert.equal(status, 401, JSON.stringify(headers));
    assert.deepEqual(body, { error: INVALID_BASIC_CREDENTIALS });
  }
  assert.equal(await attempts('basic', 'failed'), before + 3);
});

test('no credentials, malformed ones and a Bearer token are anonymous and count no attempt', async () => {
  const counts = async () => [await attempts('basic', 'success'), await attempts('basic', 'failed')];
  const before = await counts();
  const headerSets: Array<Record<string, string>> = [{}, { authorization: 'Basic !!!' }, { authorization: 'Digest x' }, { authorization: 'Bearer a.b.c' }];
  for (const headers of headerSets) {
    const { status, body } = await ask(headers);
    assert.equal(status, 200);
    assert.deepEqual(body, {
      identity: { id: null, username: null, clientIp: '127.0.0.1', certificate: { commonNames: [], organizations: [] }, oidc: null },
      method: 'anonymous',
      fromRegistryToken: false,
    });
  }
  assert.deepEqual(await counts(), before);
});

test('forwarding headers set client_ip only when the peer is a trusted proxy', async () => {
  const headers = { 'x-forwarded-for': '203.0.113.9, 127.0.0.2' };
  assert.equal(((await ask(headers)).body.identity as { clientIp: string }).clientIp, '127.0.0.1');
  const previous = config;
  config = await configWith('[global]\ntrusted_proxies = ["127.0.0.0/8"]\n');
  try {
    assert.equal(((await ask(headers)).body.identity as { clientIp: string }).clientIp, '203.0.113.9');
    assert.equal(((await ask({ 'x-real-ip': '198.51.100.4' })).body.identity as { clientIp: string }).clientIp, '198.51.100.4');
  } finally {
    config = previous;
  }
});

test('an identity removed by a reload no longer authenticates, even with a recently cached success', async () => {
  assert.equal((await ask(basic('alice', 'hunter2'))).status, 200);
  const previous = config;
  config = validateConfig(parse('[server]\nbind_address = "127.0.0.1"\n[blob_store.fs]\nroot_dir = "/data"\n', { integersAsBigInt: true }));
  try {
    assert.equal((await ask(basic('alice', 'hunter2'))).status, 401);
  } finally {
    config = previous;
  }
});
