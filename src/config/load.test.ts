import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './load.ts';
import type { Config } from './types.ts';

async function withFiles(files: Record<string, string | Buffer>, body: (path: (name: string) => string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'angos-config-'));
  try {
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
    await body((name) => join(dir, name));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function loadError(paths: string[]): Promise<ConfigError> {
  try {
    await loadConfig(paths);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  return assert.fail('expected loadConfig to fail');
}

const BASE = '[server]\nbind_address = "127.0.0.1"\n[blob_store.fs]\nroot_dir = "/data"\n';

test('an unreadable file is named with the OS reason', async () => {
  await withFiles({}, async (path) => {
    const error = await loadError([path('config.toml')]);
    assert.equal(error.message, `Failed to load configuration from ${path('config.toml')}: ${error.reason}`);
    assert.match(error.reason, /^Unable to read configuration file .*config\.toml: ENOENT: no such file or directory/);
    assert.deepEqual(error.paths, [path('config.toml')]);
  });
});

test('a single file loads; its value errors name the file in the top line', async () => {
  await withFiles({ 'a.toml': BASE, 'bad.toml': `${BASE}[global]\nmax_manifest_size = "5XB"\n` }, async (path) => {
    assert.equal((await loadConfig([path('a.toml')])).server.bindAddress, '127.0.0.1');
    const error = await loadError([path('bad.toml')]);
    assert.equal(error.message, `Failed to load configuration from ${path('bad.toml')}: global.max_manifest_size: invalid size '5XB': unknown unit 'XB'`);
  });
});

test('a syntax error names the file, line and column; duplicate keys are syntax errors', async () => {
  await withFiles({ 'dup.toml': `${BASE}[server]\nport = 1\n`, 'syntax.toml': '[server\n' }, async (path) => {
    const dup = await loadError([path('dup.toml')]);
    assert.match(dup.reason, new RegExp(`^${path('dup.toml')}: Invalid TOML document: .* at line 5, column \\d+$`));
    const syntax = await loadError([path('syntax.toml')]);
    assert.match(syntax.reason, /syntax\.toml: Invalid TOML document: .* at line 1, column \d+$/);
  });
});

test('an override file can complete a section; the base alone names the missing key', async () => {
  const base = '[server]\nbind_address = "127.0.0.1"\n[blob_store.s3]\nendpoint = "http://127.0.0.1:9000"\nbucket = "b"\nregion = "r"\n';
  const secrets = '[blob_store.s3]\naccess_key_id = "AKIA"\nsecret_key = "very-secret"\n';
  await withFiles({ 'base.toml': base, 'secrets.toml': secrets }, async (path) => {
    const config = await loadConfig([path('base.toml'), path('secrets.toml')]);
    assert.ok(config.blobStore.kind === 's3');
    assert.equal(config.blobStore.settings.secretKey, 'very-secret');
    assert.equal(config.blobStore.settings.bucket, 'b');
    const alone = await loadError([path('base.toml')]);
    assert.equal(alone.reason, "blob_store.s3: missing field 'access_key_id'");
  });
});

test('arrays and arrays of tables are replaced, never appended', async () => {
  const first =
    `${BASE}[global.access_policy]\nrules = ["a", "b"]\n` +
    '[repository."hub"]\n[[repository."hub".upstream]]\nurl = "https://one"\n[[repository."hub".upstream]]\nurl = "https://two"\n';
  const second = '[global.access_policy]\nrules = ["c"]\n[[repository."hub".upstream]]\nurl = "https://three"\n';
  await withFiles({ 'a.toml': first, 'b.toml': second }, async (path) => {
    const config = await loadConfig([path('a.toml'), path('b.toml')]);
    assert.deepEqual(config.global.accessPolicy.rules, ['c']);
    assert.deepEqual(config.repositories[0]!.upstreams.map((u) => u.url), ['https://three']);
  });
});

test('later files win for scalars while sibling keys survive', async () => {
  await withFiles({ 'a.toml': `${BASE}[ui]\nenabled = true\nname = "A"\n`, 'b.toml': '[ui]\nname = "B"\n[server]\nport = 9000\n' }, async (path) => {
    const config = await loadConfig([path('a.toml'), path('b.toml')]);
    assert.deepEqual(config.ui, { enabled: true, name: 'B' });
    assert.deepEqual([config.server.bindAddress, config.server.port], ['127.0.0.1', 9000]);
  });
});

test('a syntax error in file 2 names file 2; post-merge errors say what was merged', async () => {
  await withFiles({ 'a.toml': BASE, 'b.toml': '[global\n', 'c.toml': '[global]\nmax_blob_size = 0\n' }, async (path) => {
    const syntax = await loadError([path('a.toml'), path('b.toml')]);
    assert.ok(syntax.message.startsWith(`Failed to load configuration from ${path('a.toml')}, ${path('b.toml')}: ${path('b.toml')}: `));
    assert.ok(!syntax.reason.includes('a.toml'));
    const merged = await loadError([path('a.toml'), path('c.toml')]);
    assert.equal(merged.reason, `global.max_blob_size must be greater than zero; merged from ${path('a.toml')}, ${path('c.toml')}`);
    assert.ok(merged.message.endsWith(`merged from ${path('a.toml')}, ${path('c.toml')}`));
  });
});

test('a file that is not UTF-8 is a load error', async () => {
  await withFiles({ 'latin1.toml': Buffer.from([...Buffer.from(`${BASE}[ui]\nname = "`), 0xe9, ...Buffer.from('"\n')]) }, async (path) => {
    assert.equal((await loadError([path('latin1.toml')])).reason, `${path('latin1.toml')}: the file is not valid UTF-8`);
  });
});

// An annotated configuration that touches most sections, split in two files that are only valid together.
const ANNOTATED_CONFIG = `
[server]
bind_address = "0.0.0.0"
port = 5000
query_timeout = 7200
[server.tls]
server_certificate_bundle = "/etc/angos/tls/tls.crt"
server_private_key = "/etc/angos/tls/tls.key"
client_ca_bundle = "/etc/angos/tls/clients-ca.pem"
[global]
max_concurrent_requests = 128
max_blob_size = "20GiB"
update_pull_time = true
immutable_tags = true
immutable_tags_exclusions = ["^latest$"]
authorization_webhook = "opa"
event_webhooks = ["audit"]
trusted_proxies = ["10.0.0.0/8"]
[global.job_queue]
pending_refresh_interval_secs = 30
[global.access_policy]
default = "deny"
rules = ["identity.username != null", "request.action in ['get-manifest', 'get-blob']"]
[global.retention_policy]
rules = ["image.tag == 'latest'", "image.last_pulled_at > now() - days(30)"]
[cache.redis]
key_prefix = "angos:"
[blob_store.fs]
root_dir = "/var/lib/angos"
[metadata_store.fs]
[auth.identity.release-bot]
username = "release-bot"
password = "$argon2id$v=19$m=19456,t=2,p=1$ZXhhbXBsZXNhbHQxMjM0NQ$imK+2gA85s+YNXMl+ZWt3Lc+Z3qVHZdiQs8+ApfBTMQ"
[auth.oidc.gha]
provider = "github"
required_audience = "registry.acme.example"
[auth.token_service]
ttl_secs = 7200
[auth.webhook.opa]
url = "https://opa.internal/v1/registry"
timeout_ms = 500
[repository."hub"]
namespace = "docker.io"
authorization_webhook = ""
[[repository."hub".upstream]]
url = "https://registry-1.docker.io"
[repository."apps"]
event_webhooks = ["audit", "chat"]
[[repository."apps".downstream]]
name = "dr-site"
url = "https://registry-dr.acme.example"
namespace_filter = ["^apps/prod/"]
[repository."sandbox".access_policy]
default = "allow"
[event_webhook.audit]
url = "https://audit.internal/registry"
policy = "required"
events = ["manifest.push", "manifest.delete", "tag.delete"]
max_retries = 2
[event_webhook.chat]
url = "https://chat.internal/hooks/registry"
policy = "async"
events = ["tag.create"]
repository_filter = ["^apps/prod/"]
[observability.tracing]
endpoint = "http://otel-collector:4317"
sampling_rate = 0.05
[ui]
enabled = true
name = "ACME Registry"
`;
const ANNOTATED_SECRETS = `
[cache.redis]
url = "redis://:s3cret@redis:6379/0"
[auth.token_service]
secret_key = "KH9t0NZPub7NE0xCqZ2+FVnYJi4ISSlpU0yoaTaY9fM="
`;

/** Every section of the annotated example, as the typed values it loads into. */
function assertAnnotatedValues(config: Config): void {
  assert.deepEqual(config.global.jobQueue, {
    pendingRefreshIntervalSecs: 30,
    pendingReadyHorizonSecs: 600,
    maxAttempts: 5,
    retryBackoffMinMs: 100,
    retryBackoffMaxMs: 10_000,
    claimTtlSecs: 60,
  });
  assert.deepEqual(config.global.accessPolicy, { default: 'deny', rules: ['identity.username != null', "request.action in ['get-manifest', 'get-blob']"] });
  assert.deepEqual(config.global.retentionPolicy, { rules: ["image.tag == 'latest'", 'image.last_pulled_at > now() - days(30)'] });
  assert.deepEqual(config.cache, { kind: 'redis', url: 'redis://:s3cret@redis:6379/0', keyPrefix: 'angos:' });
  assert.deepEqual(config.metadataStore, {
    kind: 'fs',
    rootDir: '/var/lib/angos',
    syncToDisk: false,
  });
  assert.deepEqual(config.authorizationWebhooks.map((w) => [w.name, w.url, w.timeoutMs]), [['opa', 'https://opa.internal/v1/registry', 500]]);
  const [hub, apps, sandbox] = config.repositories;
  assert.deepEqual([hub!.authorizationWebhook, hub!.upstreams.map((u) => [u.url, u.origin, u.namespacePath])], [
    '',
    [['https://registry-1.docker.io', 'https://registry-1.docker.io', undefined]],
  ]);
  assert.deepEqual(apps!.eventWebhooks, ['audit', 'chat']);
  const [dr] = apps!.downstreams;
  assert.deepEqual([dr!.name, dr!.origin, dr!.namespacePath, dr!.mode, dr!.namespaceFilter.map(String)], [
    'dr-site', 'https://registry-dr.acme.example', undefined, 'event+reconcile', ['/^apps\\/prod\\//u'],
  ]);
  assert.deepEqual(sandbox!.accessPolicy, { default: 'allow', rules: [] });
  assert.deepEqual(config.eventWebhooks, [
    {
      name: 'audit',
      url: 'https://audit.internal/registry',
      policy: 'required',
      events: ['manifest.push', 'manifest.delete', 'tag.delete'],
      token: undefined,
      timeoutMs: 5000,
      maxRetries: 2,
      repositoryFilter: undefined,
    },
    {
      name: 'chat',
      url: 'https://chat.internal/hooks/registry',
      policy: 'async',
      events: ['tag.create'],
      token: undefined,
      timeoutMs: 5000,
      maxRetries: 0,
      repositoryFilter: [/^apps\/prod\//u],
    },
  ]);
  assert.deepEqual(config.observability, { tracing: { endpoint: 'http://otel-collector:4317', samplingRate: 0.05 } });
  assert.deepEqual(config.ui, { enabled: true, name: 'ACME Registry' });
}

test('the annotated example loads with its secrets file, and neither file alone', async () => {
  await withFiles({ 'config.toml': ANNOTATED_CONFIG, 'secrets.toml': ANNOTATED_SECRETS }, async (path) => {
    const config = await loadConfig([path('config.toml'), path('secrets.toml')]);
    assert.deepEqual(config.warnings, []);
    assert.equal(config.server.tls?.clientAuth, 'optional');
    assert.equal(config.global.maxBlobSize, 20 * 1024 ** 3);
    assert.equal(config.metadataStore.kind === 'fs' && config.metadataStore.rootDir, '/var/lib/angos');
    assert.deepEqual(config.repositories.map((r) => [r.name, r.namespace]), [['hub', 'docker.io'], ['apps', undefined], ['sandbox', undefined]]);
    assertAnnotatedValues(config);

    const withoutSecrets = await loadError([path('config.toml')]);
    // Both secrets live in secrets.toml; whichever section is validated first names its missing key.
    assert.match(withoutSecrets.reason, /^(auth\.token_service: missing field 'secret_key'|cache\.redis: missing field 'url')$/);
    assert.ok(!withoutSecrets.message.includes('s3cret'));
    assert.equal((await loadError([path('secrets.toml')])).reason, "missing field 'server'");
  });
});
