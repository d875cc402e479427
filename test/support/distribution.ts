// The CNCF Distribution registry (`docker-registry`, Debian's 2.8) as a real remote for the registry's own
// outgoing calls: a pull-through upstream, a replication peer, a Distribution pull-through cache in front of
// another registry. Each instance gets a free loopback port and a temp root; options add htpasswd Basic auth,
// TLS from a private test CA, and proxy (pull-through) mode.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { parseRemoteUrl } from '../../src/config/remote-url.ts';
import type { RemoteClientConfig } from '../../src/config/types.ts';
import { makeCertificates, type CertificateFiles } from '../e2e/auth-fixtures.ts';
import { runBinary } from './binaries.ts';
import { freePort } from './free-port.ts';
import { descriptorOf, imageManifest, OCI_CONFIG, OCI_LAYER, uniqueBlob, type Content, type Manifest } from './oci.ts';

/** Debian's path; guard tests with `requireBinary(t, 'docker-registry')` (and `htpasswd` for `users`). */
export const DISTRIBUTION_BINARY = 'docker-registry';

export interface DistributionOptions {
  /** htpasswd Basic auth (bcrypt lines made by `htpasswd -Bbn`): every request needs one of these users. */
  users?: ReadonlyArray<{ username: string; password: string }>;
  /** Serve HTTPS with a server certificate for 127.0.0.1 from a fresh private CA (`certificates` of the result). */
  tls?: boolean;
  /**
   * Pull-through mode: a read-only cache of `remoteUrl` (Distribution's `proxy` section). Checked against an open
   * Distribution upstream; with an htpasswd (Basic) upstream 2.8's proxy answers 404 MANIFEST_UNKNOWN (its
   * `username`/`password` are for token-auth upstreams).
   */
  proxy?: { remoteUrl: string; username?: string; password?: string };
  /** `storage.delete.enabled`: manifest and blob DELETE are served (405 otherwise). */
  deleteEnabled?: boolean;
}

export interface RunningDistribution {
  /** `http://127.0.0.1:<port>` or `https://…` with `tls`. */
  url: string;
  port: number;
  /** The storage root. */
  rootDir: string;
  configPath: string;
  /** With `tls`: the CA (`caCert`) and the server's certificate, plus client certificates from the same CA. */
  certificates: CertificateFiles | undefined;
  /** Everything the process printed so far (its access log included): for failure messages and request counts. */
  output(): string;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;

/** Starts `docker-registry serve` and resolves once `/v2/` answers (200, or 401 with auth). */
export async function startDistribution(options: DistributionOptions = {}): Promise<RunningDistribution> {
  const workDir = await mkdtemp(join(tmpdir(), 'angos-distribution-'));
  const port = await freePort();
  const rootDir = join(workDir, 'data');
  const configPath = join(workDir, 'config.yml');
  const certificates = options.tls ? await makeCertificates(workDir) : undefined;
  let htpasswdPath: string | undefined;
  if (options.users !== undefined) {
    htpasswdPath = join(workDir, 'htpasswd');
    const lines = await Promise.all(options.users.map(async ({ username, password }) => (await runBinary('htpasswd', ['-Bbn', username, password])).stdout.toString().trim()));
    await writeFile(htpasswdPath, `${lines.join('\n')}\n`);
  }
  const yaml = [
    'version: 0.1',
    'log:',
    '  level: info',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(rootDir)}`,
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    ...(options.deleteEnabled ? ['  delete:', '    enabled: true'] : []),
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
    ...(certificates ? ['  tls:', `    certificate: ${JSON.stringify(certificates.serverCert)}`, `    key: ${JSON.stringify(certificates.serverKey)}`] : []),
    ...(htpasswdPath ? ['auth:', '  htpasswd:', '    realm: distribution-test', `    path: ${JSON.stringify(htpasswdPath)}`] : []),
    ...(options.proxy
      ? [
          'proxy:',
          `  remoteurl: ${JSON.stringify(options.proxy.remoteUrl)}`,
          ...(options.proxy.username === undefined ? [] : [`  username: ${JSON.stringify(options.proxy.username)}`]),
          ...(options.proxy.password === undefined ? [] : [`  password: ${JSON.stringify(options.proxy.password)}`]),
        ]
      : []),
    '',
  ].join('\n');
  await writeFile(configPath, yaml);
  // REGISTRY_* variables would override the YAML.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('REGISTRY_')));
  const child = spawn(DISTRIBUTION_BINARY, ['serve', configPath], { cwd: workDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  let gone = false;
  void exited.then(() => (gone = true));

  const url = `${certificates ? 'https' : 'http'}://127.0.0.1:${port}`;
  const ca = certificates ? await readFile(certificates.caCert) : undefined;
  const giveUp = Date.now() + START_TIMEOUT_MS;
  while (!(await answers(`${url}/v2/`, ca))) {
    if (gone || Date.now() > giveUp) {
      child.kill('SIGKILL');
      await exited;
      await rm(workDir, { recursive: true, force: true });
      throw new Error(`docker-registry did not start:\n${output}`);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  return {
    url,
    port,
    rootDir,
    configPath,
    certificates,
    output: () => output,
    async stop() {
      if (!gone) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

function answers(url: string, ca: Buffer | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (answered: boolean) => resolve(answered);
    const req = (ca ? httpsRequest(url, { ca, agent: false, timeout: 2000 }) : httpRequest(url, { agent: false, timeout: 2000 }))
      .once('response', (res) => {
        res.resume();
        done(true);
      })
      .once('timeout', () => req.destroy())
      .once('error', () => done(false));
    req.end();
  });
}

export interface PushTarget {
  /** The registry's base URL (any registry speaking the distribution API: Distribution, this registry). */
  url: string;
  /** Basic credentials for htpasswd (sent on every request). */
  username?: string;
  password?: string;
  /** PEM of the CA that signed the server's certificate (a `tls` instance: `certificates.caCert`). */
  caCertFile?: string;
}

export interface PushedImage {
  manifest: Manifest;
  config: Content;
  layer: Content;
}

/**
 * Pushes a small OCI image (a config and one layer of a few random bytes) as `<namespace>:<tag>` over the HTTP
 * API: POST + PUT per blob, PUT of the manifest. Fails with the status and body of the first refused step.
 */
export async function pushSmallImage(target: PushTarget, namespace: string, tag: string, layer: Content = uniqueBlob('layer')): Promise<PushedImage> {
  const dispatcher = new Agent(target.caCertFile ? { connect: { ca: await readFile(target.caCertFile) } } : {});
  const authorization = target.username === undefined ? {} : { authorization: `Basic ${Buffer.from(`${target.username}:${target.password ?? ''}`).toString('base64')}` };
  const call = async (method: 'POST' | 'PUT', url: string, headers: Record<string, string>, body: Buffer | null, expected: number) => {
    const response = await request(url, { method, dispatcher, headers: { ...authorization, ...headers }, body });
    const text = await response.body.text();
    if (response.statusCode !== expected) throw new Error(`${method} ${url} answered ${response.statusCode} (expected ${expected}): ${text.slice(0, 500)}`);
    return response.headers;
  };
  try {
    const config = uniqueBlob('config');
    for (const blob of [config, layer]) {
      const started = await call('POST', `${target.url}/v2/${namespace}/blobs/uploads/`, {}, null, 202);
      const location = new URL(String(started.location), target.url);
      location.searchParams.set('digest', blob.digest);
      await call('PUT', location.href, { 'content-type': 'application/octet-stream' }, blob.bytes, 201);
    }
    const manifest = imageManifest({ config: descriptorOf(config, OCI_CONFIG), layers: [descriptorOf(layer, OCI_LAYER)] });
    await call('PUT', `${target.url}/v2/${namespace}/manifests/${tag}`, { 'content-type': manifest.mediaType }, manifest.bytes, 201);
    return { manifest, config, layer };
  } finally {
    await dispatcher.close();
  }
}


/** The client configuration an `upstream`/`downstream` entry with only `url` gives (spec §1.1 defaults), plus `overrides`. */
export function remoteConfig(url: string, overrides: Partial<RemoteClientConfig> = {}): RemoteClientConfig {
  return {
    url,
    ...parseRemoteUrl(url),
    serverCaBundle: undefined,
    clientCertificate: undefined,
    clientPrivateKey: undefined,
    username: undefined,
    password: undefined,
    connectTimeoutSecs: 30,
    readTimeoutSecs: 300,
    maxRedirect: 5,
    ...overrides,
  };
}
