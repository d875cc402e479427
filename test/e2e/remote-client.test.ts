// The remote registry client (src/remote/, docs/remote.md) against real registries: CNCF Distribution with
// htpasswd Basic auth and over TLS from a private CA, and this registry with its token service (the Bearer dance
// of spec §1.2 and §7 scenario 5), watched through a counting proxy on loopback.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Cache } from '../../src/cache/cache.ts';
import { MemoryCache } from '../../src/cache/memory-cache.ts';
import { RedisCache } from '../../src/cache/redis-cache.ts';
import { openRemote, RemoteError, RemoteRegistry } from '../../src/remote/index.ts';
import { findBinary } from '../support/binaries.ts';
import { pushSmallImage, remoteConfig, startDistribution, type PushedImage, type RunningDistribution } from '../support/distribution.ts';
import { DOCKER_MANIFEST, OCI_MANIFEST, uniqueBlob } from '../support/oci.ts';
import { startPrivateCaServer } from '../support/private-ca-server.ts';
import { startRedis, type RunningRedis } from '../support/redis.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { identityToml } from './auth-fixtures.ts';

const MAX_MANIFEST = 4 * 1024 * 1024;
const deps = (cache: Cache = new MemoryCache()) => ({ cache, maxManifestSize: () => MAX_MANIFEST });

async function readAll(body: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

// A developer without the binaries skips; CI has them (.ci/run) and fails instead.
const missing = ['docker-registry', 'htpasswd', 'openssl', 'redis-server'].filter((name) => findBinary(name) === undefined);
const skip = missing.length > 0 && !process.env.CI ? `missing ${missing.join(', ')} on PATH` : false;

describe('remote client against Distribution with htpasswd', { skip }, () => {
  let distribution: RunningDistribution;
  let image: PushedImage;
  const user = { username: 'puller', password: 's3cret' };

  before(async () => {
    distribution = await startDistribution({ users: [user] });
    image = await pushSmallImage({ url: distribution.url, ...user }, 'library/app', 'v1');
  });
  after(() => distribution?.stop());

  it('answers the Basic challenge and reads manifests, blobs and tags', async () => {
    const remote = new RemoteRegistry(remoteConfig(distribution.url, user), deps());
    try {
      const head = await remote.headManifest('library/app', 'v1', [OCI_MANIFEST]);
      assert.deepEqual(head, { digest: image.manifest.digest, size: image.manifest.size, mediaType: OCI_MANIFEST });
      const got = await remote.getManifest('library/app', 'v1', [OCI_MANIFEST]);
      assert.deepEqual(got, { digest: image.manifest.digest, mediaType: OCI_MANIFEST, body: image.manifest.bytes });
      assert.deepEqual(await remote.headBlob('library/app', image.layer.digest), { digest: image.layer.digest, size: image.layer.size });
      const blob = await remote.getBlob('library/app', image.layer.digest);
      assert.deepEqual([blob.status, blob.size, blob.contentRange], [200, image.layer.size, undefined]);
      assert.deepEqual(await readAll(blob.body), image.layer.bytes);
      const ranged = await remote.getBlob('library/app', image.layer.digest, { range: 'bytes=2-5' });
      assert.deepEqual([ranged.status, ranged.size, ranged.contentRange], [206, 4, `bytes 2-5/${image.layer.size}`]);
      assert.deepEqual(await readAll(ranged.body), image.layer.bytes.subarray(2, 6));
      assert.equal(await remote.blobExists('library/app', image.layer.digest), true);
      assert.equal(await remote.blobExists('library/app', uniqueBlob().digest), false);
      assert.deepEqual(await remote.listTags('library/app'), ['v1']);
      assert.deepEqual(await remote.listTags('library/none'), []);
      await assert.rejects(remote.getManifest('library/app', 'v2', [OCI_MANIFEST]), (error: RemoteError) => error.status === 404 && !error.denied);
    } finally {
      await remote.close();
    }
  });

  it('without credentials, or with wrong ones, fails with the 401', async () => {
    for (const overrides of [{}, { username: 'puller', password: 'wrong' }]) {
      const remote = new RemoteRegistry(remoteConfig(distribution.url, overrides), deps());
      await assert.rejects(remote.headManifest('library/app', 'v1', []), (error: RemoteError) => error instanceof RemoteError && error.status === 401);
      await remote.close();
    }
  });
});

describe('remote client against Distribution over TLS from a private CA', { skip }, () => {
  let distribution: RunningDistribution;
  let image: PushedImage;

  before(async () => {
    distribution = await startDistribution({ tls: true });
    image = await pushSmallImage({ url: distribution.url, caCertFile: distribution.certificates!.caCert }, 'app', 'v1');
  });
  after(() => distribution?.stop());

  it('trusts the server with server_ca_bundle added to the default roots', async () => {
    const remote = await openRemote(remoteConfig(distribution.url, { serverCaBundle: distribution.certificates!.caCert }), deps());
    try {
      assert.equal((await remote.headManifest('app', 'v1', [OCI_MANIFEST])).digest, image.manifest.digest);
    } finally {
      await remote.close();
    }
  });

  it('without it the handshake fails: a RemoteError without status', async () => {
    const remote = await openRemote(remoteConfig(distribution.url), deps());
    try {
      await assert.rejects(remote.headManifest('app', 'v1', []), (error: RemoteError) => error instanceof RemoteError && error.status === undefined);
    } finally {
      await remote.close();
    }
  });

  it('an unreadable TLS file fails opening, naming the key and the file', async () => {
    const gone = join(distribution.certificates!.dir, 'gone.pem');
    const section = 'repository."hub".upstream[0]';
    await assert.rejects(openRemote(remoteConfig(distribution.url, { serverCaBundle: gone }), { ...deps(), section }), {
      message: `${section}: cannot read server_ca_bundle '${gone}': ENOENT`,
    });
    const { clientCert } = distribution.certificates!;
    await assert.rejects(openRemote(remoteConfig(distribution.url, { clientCertificate: clientCert, clientPrivateKey: gone }), { ...deps(), section }), {
      message: `${section}: cannot read client_private_key '${gone}': ENOENT`,
    });
    assert.throws(() => new RemoteRegistry(remoteConfig(distribution.url, { serverCaBundle: gone }), { ...deps(), section }), /server_ca_bundle/);
  });

  it('presents the client certificate to a server that requires one (mTLS)', async () => {
    const server = await startPrivateCaServer(() => '{}');
    const { caCert, clientCert, clientKey } = server.files;
    const remote = await openRemote(remoteConfig(server.url, { serverCaBundle: caCert, clientCertificate: clientCert, clientPrivateKey: clientKey }), deps());
    const anonymous = await openRemote(remoteConfig(server.url, { serverCaBundle: caCert }), deps());
    try {
      const response = await remote.request({ method: 'GET', path: '/v2/' });
      assert.equal(response.status, 200);
      await readAll(response.body);
      assert.deepEqual(server.clients, ['build']);
      await assert.rejects(anonymous.request({ method: 'GET', path: '/v2/' }), RemoteError);
    } finally {
      await remote.close();
      await anonymous.close();
      await server.close();
    }
  });
});

interface Seen {
  method: string;
  path: string;
  status: number;
  authorization: string | undefined;
  accept: string[];
}

/** A plain forwarding proxy on loopback that records every exchange; `Host` is passed on, so challenges name it. */
async function countingProxy(target: string): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const forwarded = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      seen.push({ method: req.method!, path: req.url!, status: answer.statusCode!, authorization: req.headers.authorization, accept: req.headersDistinct.accept ?? [] });
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    async close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

const SECRET = Buffer.alloc(32, 9).toString('base64');
const POLICY = `[global.access_policy]
default = "deny"
rules = ["request.action == 'get-token'", "identity.username == 'alice'", "identity.username == 'bob'"]
`;

describe('remote client against this registry with its token service (the Bearer dance)', { skip }, () => {
  let server: RunningServer;
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  let redis: RunningRedis;
  let image: PushedImage;
  const alice = { username: 'alice', password: 'alice-pw' };
  const bob = { username: 'bob', password: 'bob-pw' };

  before(async () => {
    const identities = (await identityToml('alice', alice.username, alice.password)) + (await identityToml('bob', bob.username, bob.password));
    server = await startServer({ extraToml: `${identities}[auth.token_service]\nsecret_key = "${SECRET}"\n${POLICY}` });
    proxy = await countingProxy(server.url);
    redis = await startRedis();
    image = await pushSmallImage({ url: server.url, ...alice }, 'team/app', 'v1');
  });
  after(async () => {
    await proxy?.close();
    await server?.stop();
    await redis?.kill();
  });

  const host = () => new URL(proxy.url).host;
  const since = (mark: number) => proxy.seen.slice(mark).map(({ method, path, status }) => `${method} ${path} ${status}`);

  it('fetches a token on the 401, retries once, then sends the cached bearer without a 401', async () => {
    const cache = new MemoryCache();
    const remote = new RemoteRegistry(remoteConfig(proxy.url, alice), deps(cache));
    try {
      let mark = proxy.seen.length;
      assert.equal((await remote.getManifest('team/app', 'v1', [OCI_MANIFEST])).digest, image.manifest.digest);
      const manifestPath = '/v2/team/app/manifests/v1';
      assert.deepEqual(since(mark), [`GET ${manifestPath} 401`, `GET /token?service=${encodeURIComponent(host())} 200`, `GET ${manifestPath} 200`]);
      const [first, token, retry] = proxy.seen.slice(mark);
      assert.equal(first!.authorization, undefined);
      assert.equal(token!.authorization, `Basic ${Buffer.from('alice:alice-pw').toString('base64')}`);
      assert.match(retry!.authorization ?? '', /^Bearer /);
      const tokenKey = `auth:${host()}:realm=http://${host()}/token:service=${host()}:scope=:user=alice`;
      assert.equal(await cache.get(tokenKey), retry!.authorization);
      assert.equal(await cache.get(`auth-index:${host()}:user=alice:${proxy.url}${manifestPath}`), tokenKey);

      mark = proxy.seen.length;
      await remote.getManifest('team/app', 'v1', [OCI_MANIFEST]);
      assert.deepEqual(since(mark), [`GET ${manifestPath} 200`]);
      assert.equal(proxy.seen.at(-1)!.authorization, retry!.authorization);

      // Another URL: one 401, answered from the cached token without asking the token service again.
      mark = proxy.seen.length;
      await remote.headBlob('team/app', image.layer.digest);
      assert.deepEqual(since(mark), [`HEAD /v2/team/app/blobs/${image.layer.digest} 401`, `HEAD /v2/team/app/blobs/${image.layer.digest} 200`]);
    } finally {
      await remote.close();
    }
  });

  it('different credentials on one host never share tokens', async () => {
    const cache = new MemoryCache();
    const asAlice = new RemoteRegistry(remoteConfig(proxy.url, alice), deps(cache));
    const asBob = new RemoteRegistry(remoteConfig(proxy.url, bob), deps(cache));
    try {
      await asAlice.headManifest('team/app', 'v1', [OCI_MANIFEST]);
      const mark = proxy.seen.length;
      await asBob.headManifest('team/app', 'v1', [OCI_MANIFEST]);
      const [first, token, retry] = proxy.seen.slice(mark);
      assert.deepEqual([first!.status, first!.authorization], [401, undefined]);
      assert.equal(token!.authorization, `Basic ${Buffer.from('bob:bob-pw').toString('base64')}`);
      assert.equal(retry!.status, 200);
      assert.ok(await cache.get(`auth:${host()}:realm=http://${host()}/token:service=${host()}:scope=:user=bob`));
    } finally {
      await asAlice.close();
      await asBob.close();
    }
  });

  it('an anonymous token that is refused again: one resend, then an ordinary 401 failure', async () => {
    const remote = new RemoteRegistry(remoteConfig(proxy.url), deps());
    try {
      const mark = proxy.seen.length;
      await assert.rejects(remote.headManifest('team/app', 'v1', []), (error: RemoteError) => error.status === 401 && !error.denied);
      assert.deepEqual(since(mark), ['HEAD /v2/team/app/manifests/v1 401', `GET /token?service=${encodeURIComponent(host())} 200`, 'HEAD /v2/team/app/manifests/v1 401']);
      assert.equal(proxy.seen.at(-2)!.authorization, undefined);
    } finally {
      await remote.close();
    }
  });

  it('with a Redis token cache, a second process reuses the first one’s bearer without a 401', async () => {
    const prefix = `remote-test-${Date.now()}:`;
    const [cacheA, cacheB] = [new RedisCache(redis.url, prefix), new RedisCache(redis.url, prefix)];
    const a = new RemoteRegistry(remoteConfig(proxy.url, alice), deps(cacheA));
    const b = new RemoteRegistry(remoteConfig(proxy.url, alice), deps(cacheB));
    try {
      await a.listTags('team/app');
      const mark = proxy.seen.length;
      assert.deepEqual(await b.listTags('team/app'), ['v1']);
      assert.deepEqual(since(mark), ['GET /v2/team/app/tags/list 200']);
    } finally {
      await a.close();
      await b.close();
      await cacheA.close();
      await cacheB.close();
    }
  });

  it('forwards each Accept item as its own header, in order', async () => {
    const remote = new RemoteRegistry(remoteConfig(proxy.url, alice), deps());
    try {
      await remote.getManifest('team/app', 'v1', [DOCKER_MANIFEST, `${OCI_MANIFEST};q=0.5`]);
      assert.deepEqual(proxy.seen.at(-1)!.accept, [DOCKER_MANIFEST, `${OCI_MANIFEST};q=0.5`]);
      await remote.blobExists('team/app', image.layer.digest);
      assert.deepEqual(proxy.seen.at(-1)!.accept, []);
    } finally {
      await remote.close();
    }
  });
});
