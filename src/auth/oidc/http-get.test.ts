import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { httpGet, type GetOptions } from './http-get.ts';

// Two real servers on loopback, so a redirect can stay on one origin or leave it. Each records the
// `Authorization` header every request carried, by path.
interface Origin {
  server: Server;
  url: string;
  seen: Array<[string, string | null]>;
}

let issuer: Origin;
let elsewhere: Origin;

async function start(route: (path: string, res: ServerResponse) => void): Promise<Origin> {
  const origin: Origin = { server: createServer(), url: '', seen: [] };
  origin.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    origin.seen.push([req.url ?? '', req.headers.authorization ?? null]);
    route(req.url ?? '', res);
  });
  origin.server.listen(0, '127.0.0.1');
  await once(origin.server, 'listening');
  origin.url = `http://127.0.0.1:${(origin.server.address() as AddressInfo).port}`;
  return origin;
}

function redirect(res: ServerResponse, status: number, location: string): void {
  res.writeHead(status, { location }).end('moved');
}

before(async () => {
  issuer = await start((path, res) => {
    if (path === '/same') redirect(res, 302, '/doc?x=1');
    else if (path === '/cross') redirect(res, 307, `${elsewhere.url}/doc`);
    else if (path === '/bounce') redirect(res, 301, `${elsewhere.url}/back`);
    else if (path === '/loop') redirect(res, 308, '/loop');
    else if (path === '/ftp') redirect(res, 302, 'ftp://127.0.0.1/doc');
    else if (path === '/no-location') res.writeHead(302).end();
    else if (path === '/big') res.end('x'.repeat(2048));
    else if (path === '/bom') res.end('\uFEFF{"a":1}');
    else if (path === '/stall') res.writeHead(200).write('{"keys":');
    else if (path === '/missing') res.writeHead(404).end('gone');
    else res.end(`doc at ${path}`);
  });
  elsewhere = await start((path, res) => {
    if (path === '/back') redirect(res, 302, `${issuer.url}/doc`);
    else res.end(`elsewhere ${path}`);
  });
});
after(() => {
  for (const { server } of [issuer, elsewhere]) {
    server.closeAllConnections();
    server.close();
  }
});

const options = (extra: Partial<GetOptions> = {}): GetOptions => ({
  headers: { accept: 'application/json' },
  authorization: 'Bearer issuer-secret',
  tlsAgent: new HttpsAgent(),
  timeoutSecs: 5,
  maxBodyBytes: 1024,
  ...extra,
});

function reset(): void {
  issuer.seen.length = 0;
  elsewhere.seen.length = 0;
}

test('a same-origin redirect is followed with the Authorization header kept', async () => {
  reset();
  const answer = await httpGet(`${issuer.url}/same`, options());
  assert.deepEqual(answer, { url: `${issuer.url}/doc?x=1`, status: 200, body: 'doc at /doc?x=1' });
  assert.deepEqual(issuer.seen, [['/same', 'Bearer issuer-secret'], ['/doc?x=1', 'Bearer issuer-secret']]);
});

test('a cross-origin redirect drops the Authorization header, for good even when it comes back', async () => {
  reset();
  assert.equal((await httpGet(`${issuer.url}/cross`, options())).body, 'elsewhere /doc');
  assert.deepEqual(elsewhere.seen, [['/doc', null]]);
  reset();
  assert.equal((await httpGet(`${issuer.url}/bounce`, options())).body, 'doc at /doc');
  assert.deepEqual(issuer.seen, [['/bounce', 'Bearer issuer-secret'], ['/doc', null]]);
  assert.deepEqual(elsewhere.seen, [['/back', null]]);
});

test('without an Authorization none is sent on any hop', async () => {
  reset();
  await httpGet(`${issuer.url}/same`, options({ authorization: undefined }));
  assert.deepEqual(issuer.seen, [['/same', null], ['/doc?x=1', null]]);
});

test('a redirect loop stops after 20 redirects; a non-HTTP location is refused', async () => {
  reset();
  await assert.rejects(httpGet(`${issuer.url}/loop`, options()), { message: 'more than 20 redirects' });
  assert.equal(issuer.seen.length, 21);
  await assert.rejects(httpGet(`${issuer.url}/ftp`, options()), { message: 'redirected to an unusable location "ftp://127.0.0.1/doc"' });
});

test('any other status is returned as is, a 3xx without Location included', async () => {
  assert.deepEqual(await httpGet(`${issuer.url}/missing`, options()), { url: `${issuer.url}/missing`, status: 404, body: 'gone' });
  assert.equal((await httpGet(`${issuer.url}/no-location`, options())).status, 302);
});

test('a body over the limit is an error; a byte-order mark is dropped', async () => {
  await assert.rejects(httpGet(`${issuer.url}/big`, options()), { message: 'the body is larger than 1024 bytes' });
  assert.equal((await httpGet(`${issuer.url}/big`, options({ maxBodyBytes: 2048 }))).body.length, 2048);
  assert.equal((await httpGet(`${issuer.url}/bom`, options())).body, '{"a":1}');
});

test('the deadline covers the body: a server that stalls mid-body is a timeout', async () => {
  await assert.rejects(httpGet(`${issuer.url}/stall`, options({ timeoutSecs: 1 })), { message: 'no answer within 1 s' });
});

test('a refused connection is an error', async () => {
  const closed = await start(() => {});
  closed.server.close();
  await once(closed.server, 'close');
  await assert.rejects(httpGet(`${closed.url}/doc`, options()), /ECONNREFUSED/);
});
