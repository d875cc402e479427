import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'smol-toml';
import { ConfigValueError } from './table-reader.ts';
import type { Config, RepositoryConfig } from './types.ts';
import { S3_DEFAULTS } from './s3-section.ts';
import { validateConfig } from './validate.ts';

const SERVER = '[server]\nbind_address = "127.0.0.1"\n';
const FS_STORE = '[blob_store.fs]\nroot_dir = "/data"\n';
const BASE = SERVER + FS_STORE;

function load(toml: string): Config {
  return validateConfig(parse(toml, { integersAsBigInt: true }));
}

function failure(toml: string): string {
  try {
    load(toml);
  } catch (error) {
    if (error instanceof ConfigValueError) return error.message;
    throw error;
  }
  return assert.fail(`expected a validation error for:\n${toml}`);
}

test('defaults of every fully validated section', () => {
  const config = load(BASE);
  assert.deepEqual(config.server, {
    bindAddress: '127.0.0.1',
    port: 8000,
    queryTimeoutSecs: 3600,
    queryTimeoutGracePeriodSecs: 60,
    handshakeTimeoutSecs: 10,
    tls: undefined,
  });
  assert.deepEqual(config.global, {
    maxConcurrentRequests: 64,
    maxConcurrentCacheJobs: 4,
    maxConcurrentReplicationJobs: 4,
    maxManifestSize: 5_242_880,
    maxBlobSize: 107_374_182_400,
    updatePullTime: false,
    enableBlobRedirect: true,
    enableManifestRedirect: true,
    immutableTags: false,
    immutableTagsExclusions: [],
    allowMissingManifestReferences: true,
    authorizationWebhook: undefined,
    eventWebhooks: [],
    trustedProxies: [],
    accessPolicy: { default: 'deny', rules: [] },
    retentionPolicy: undefined,
    jobQueue: undefined,
    shutdownDrainSecs: 30,
    gc: { graceSecs: 300, intervalSecs: 3600, afterDeleteSecs: 60, orphanGrantAgeSecs: 86_400, atimeAuditWindowSecs: 3600 },
    retentionIntervalSecs: 86_400,
  });
  assert.deepEqual(config.blobStore, { kind: 'fs', rootDir: '/data', syncToDisk: false });
  assert.deepEqual(config.metadataStore, { kind: 'fs', rootDir: '/data', syncToDisk: false });
  assert.deepEqual(config.repositories, []);
  assert.deepEqual(config.ui, { enabled: false, name: 'Angos' });
  assert.deepEqual(config.eventWebhooks, []);
  assert.deepEqual(config.observability, { tracing: undefined });
  assert.deepEqual(config.warnings, []);
});

test('the config is frozen all the way down', () => {
  const config = load(`${BASE}[repository."a"]\nimmutable_tags_exclusions = ["^x"]\n`);
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.server) && Object.isFrozen(config.repositories[0]));
  assert.throws(() => {
    (config.global as { maxBlobSize: number }).maxBlobSize = 1;
  }, TypeError);
  assert.throws(() => (config.repositories as RepositoryConfig[]).push(config.repositories[0]!), TypeError);
});

test('bad sizes name the key and the value; zero is refused', () => {
  const bad = failure(`${BASE}[global]\nmax_manifest_size = "5XB"\n`);
  assert.match(bad, /^global\.max_manifest_size: invalid size '5XB'/);
  assert.equal(failure(`${BASE}[global]\nmax_blob_size = 0\n`), 'global.max_blob_size must be greater than zero');
  assert.equal(failure(`${BASE}[global]\nmax_manifest_size = "0"\n`), 'global.max_manifest_size must be greater than zero');
});

test('size values in the configuration', () => {
  const sizes: Array<[string, number]> = [['"5MiB"', 5_242_880], ['"5 mb"', 5_000_000], ['"1.5KiB"', 1_536], ['1048576', 1_048_576], ['"1048576"', 1_048_576]];
  for (const [toml, bytes] of sizes) assert.equal(load(`${BASE}[global]\nmax_blob_size = ${toml}\n`).global.maxBlobSize, bytes, toml);
  for (const toml of ['" 5MiB"', '"-1"', '"MiB"', '-1', '1.5', 'true']) {
    assert.match(failure(`${BASE}[global]\nmax_blob_size = ${toml}\n`), /^global\.max_blob_size: /, toml);
  }
});

test('required sections and the blob store backend', () => {
  assert.equal(failure(FS_STORE), "missing field 'server'");
  assert.equal(failure(SERVER), "missing field 'blob_store'");
  assert.equal(failure(`${SERVER}[blob_store.fs]\nroot_dir = ""\n`), 'blob_store.fs.root_dir must not be empty');
  assert.equal(failure(`${SERVER}[blob_store.fs]\n`), "blob_store.fs: missing field 'root_dir'");
  assert.match(
    failure(`${BASE}[blob_store.s3]\naccess_key_id = "a"\nsecret_key = "s"\nendpoint = "http://s3"\nbucket = "b"\nregion = "r"\n`),
    /^blob_store: only one of 'fs' or 's3'/,
  );
  assert.match(failure(`${SERVER}[blob_store]\n`), /^blob_store: expected one of 'fs' or 's3'/);
});

test('bind address, query timeout and strict port type', () => {
  assert.match(failure('[server]\nbind_address = "localhost"\n' + FS_STORE), /^server\.bind_address: 'localhost' is not an IP address/);
  assert.equal(load('[server]\nbind_address = "::"\n' + FS_STORE).server.bindAddress, '::');
  assert.equal(load('[server]\nbind_address = "127.0.0.1"\nport = 0\n' + FS_STORE).server.port, 0);
  assert.match(failure(`${SERVER}query_timeout = 0\n${FS_STORE}`), /query_timeout must be > 0/);
  assert.match(failure(`${SERVER}query_timeout_grace_period = 0\n${FS_STORE}`), /query_timeout_grace_period must be > 0/);
  assert.equal(failure(`${SERVER}port = "8000"\n${FS_STORE}`), 'server.port: invalid type: expected an integer, found string "8000"');
  assert.equal(failure(`${SERVER}port = 8000.0\n${FS_STORE}`), 'server.port: invalid type: expected an integer, found float 8000');
  assert.equal(failure(`${SERVER}port = 65536\n${FS_STORE}`), 'server.port must be between 0 and 65535, got 65536');
  assert.match(failure(`[server]\n${FS_STORE}`), /^server: missing field 'bind_address'/);
});

test('TLS must be complete; client_auth = required needs a CA bundle', () => {
  const tls = `${SERVER}[server.tls]\nserver_certificate_bundle = "tls.crt"\n`;
  assert.equal(failure(tls + FS_STORE), "server.tls: missing field 'server_private_key'");
  const complete = `${tls}server_private_key = "tls.key"\n`;
  assert.equal(
    failure(`${complete}client_auth = "required"\n${FS_STORE}`),
    'server.tls.client_auth: client_auth = "required" requires client_ca_bundle to be set',
  );
  assert.match(failure(`${complete}client_auth = "sometimes"\n${FS_STORE}`), /client_auth: expected 'optional' or 'required', got 'sometimes'/);
  assert.deepEqual(load(`${complete}client_ca_bundle = "ca.pem"\nclient_auth = "required"\n${FS_STORE}`).server.tls, {
    serverCertificateBundle: 'tls.crt',
    serverPrivateKey: 'tls.key',
    clientCaBundle: 'ca.pem',
    clientAuth: 'required',
  });
  assert.equal(load(complete + FS_STORE).server.tls?.clientAuth, 'optional');
});

test('unknown keys and sections load and are listed in one warning', () => {
  const config = load(`${BASE}[global]\nfrobnicate = 1\n[made_up]\nx = 1\n[auth.oidc.gha]\nprovider = "github"\ndiscovery_url = "https://x"\n[repository."a"]\ncolour = "red"\n`);
  assert.deepEqual(config.warnings, ['Unknown configuration keys ignored: global.frobnicate, repository."a".colour, auth.oidc.gha.discovery_url, made_up']);
  // Every section is read in full now, so its unknown keys are listed too.
  const everywhere = load(
    `${SERVER}[blob_store.s3]\n${S3_KEYS}colour = 1\n[auth]\nfrobnicate = 1\n[event_webhook.e]\nurl = "https://e"\npolicy = "async"\nevents = ["blob.push"]\nextra = 1\n` +
      `[observability]\nlogs = 1\n[observability.tracing]\nendpoint = "http://otel:4317"\nsampling_rate = 1\nheaders = 1\n[global.job_queue]\nshards = 1\n` +
      `[metadata_store.s3]\n${S3_KEYS}colour = 2\n`,
  );
  assert.deepEqual(everywhere.warnings, [
    'Unknown configuration keys ignored: global.job_queue.shards, blob_store.s3.colour, metadata_store.s3.colour, ' +
      'auth.frobnicate, event_webhook.e.extra, observability.logs, observability.tracing.headers',
  ]);
});

test('repository names, prefix overlap and mirrored namespaces', () => {
  assert.equal(failure(`${BASE}[repository."team"]\n[repository."team/app"]\n`), "repository prefixes overlap: 'team' and 'team/app'");
  assert.equal(failure(`${BASE}[repository."team/app"]\n[repository."team"]\n`), "repository prefixes overlap: 'team' and 'team/app'");
  assert.deepEqual(load(`${BASE}[repository."team"]\n[repository."teams"]\n`).repositories.map((r) => r.name), ['team', 'teams']);
  assert.equal(failure(`${BASE}[repository."Team"]\n`), `repository."Team": repository name 'Team' is not a valid namespace`);
  for (const name of ['a//b', '-a', 'a/', 'a__b_', '']) assert.match(failure(`${BASE}[repository."${name}"]\n`), /is not a valid namespace/, name);
  assert.equal(
    failure(`${BASE}[repository."hub"]\nnamespace = "docker.io"\n[repository."hub2"]\nnamespace = "Docker.IO"\n`),
    "repositories 'hub' and 'hub2' both mirror the namespace 'docker.io'",
  );
  const blank = load(`${BASE}[repository."a"]\nnamespace = ""\n[repository."b"]\nnamespace = ""\n`);
  assert.deepEqual(blank.repositories.map((r) => r.namespace), [undefined, undefined]);
});

test('webhook references must resolve', () => {
  assert.equal(failure(`${BASE}[global]\nauthorization_webhook = "nope"\n`), "Webhook 'nope' not found (referenced globally)");
  assert.equal(failure(`${BASE}[global]\nevent_webhooks = ["audit"]\n`), "Event webhook 'audit' not found (referenced globally)");
  assert.equal(failure(`${BASE}[repository."a"]\nevent_webhooks = ["x"]\n`), "Event webhook 'x' not found (referenced in 'a' repository)");
  assert.equal(failure(`${BASE}[repository."a"]\nauthorization_webhook = "x"\n`), "Webhook 'x' not found (referenced in 'a' repository)");
  const defined = load(
    `${BASE}[global]\nauthorization_webhook = "opa"\nevent_webhooks = ["audit"]\n` +
      `[auth.webhook.opa]\nurl = "https://opa"\ntimeout_ms = 500\n[event_webhook.audit]\nurl = "https://audit"\npolicy = "async"\nevents = ["tag.create"]\n` +
      `[repository."a"]\nauthorization_webhook = ""\nevent_webhooks = []\n[repository."b"]\n`,
  );
  assert.equal(defined.global.authorizationWebhook, 'opa');
  assert.deepEqual(defined.global.eventWebhooks, ['audit']);
  assert.equal(defined.repositories[0]!.authorizationWebhook, '');
  assert.deepEqual(defined.repositories[0]!.eventWebhooks, []);
  assert.equal(defined.repositories[1]!.authorizationWebhook, undefined);
  assert.equal(defined.repositories[1]!.eventWebhooks, undefined);
});

test('trusted proxies are IPs or CIDR blocks', () => {
  assert.equal(failure(`${BASE}[global]\ntrusted_proxies = ["10.0.0.0/33"]\n`), "global.trusted_proxies[0]: invalid trusted proxy '10.0.0.0/33'");
  assert.equal(failure(`${BASE}[global]\ntrusted_proxies = ["::1", "proxy.local"]\n`), "global.trusted_proxies[1]: invalid trusted proxy 'proxy.local'");
  assert.deepEqual(load(`${BASE}[global]\ntrusted_proxies = ["10.0.0.0/8"]\n`).global.trustedProxies, [
    { text: '10.0.0.0/8', address: '10.0.0.0', family: 4, prefixLength: 8 },
  ]);
});

test('concurrency limits must be positive', () => {
  for (const key of ['max_concurrent_requests', 'max_concurrent_cache_jobs', 'max_concurrent_replication_jobs']) {
    assert.equal(failure(`${BASE}[global]\n${key} = 0\n`), `global.${key} must be > 0, got 0`);
  }
  const config = load(`${BASE}[global]\nmax_concurrent_requests = 128\nmax_concurrent_cache_jobs = 2\nmax_concurrent_replication_jobs = 8\n`);
  assert.deepEqual(
    [config.global.maxConcurrentRequests, config.global.maxConcurrentCacheJobs, config.global.maxConcurrentReplicationJobs],
    [128, 2, 8],
  );
});

test('strict types: no string, number or boolean coercion', () => {
  assert.equal(failure(`${BASE}[global]\nupdate_pull_time = "true"\n`), 'global.update_pull_time: invalid type: expected a boolean, found string "true"');
  assert.equal(failure(`${BASE}[global]\nevent_webhooks = "audit"\n`), 'global.event_webhooks: invalid type: expected an array of strings, found string "audit"');
  assert.equal(failure(`${BASE}[global]\nevent_webhooks = ["a", 1]\n`), 'global.event_webhooks[1]: invalid type: expected a string, found integer 1');
  assert.equal(failure(`${BASE}[global]\nshutdown_drain_secs = -1\n`), 'global.shutdown_drain_secs must not be negative, got -1');
  assert.equal(failure(`global = 1\n${BASE}`), 'global: invalid type: expected a table, found integer 1');
});

test('redirect flags: the deprecated enable_redirect is only a fallback', () => {
  const legacy = load(`${BASE}[global]\nenable_redirect = false\nenable_manifest_redirect = true\n`);
  assert.equal(legacy.global.enableBlobRedirect, false);
  assert.equal(legacy.global.enableManifestRedirect, true);
  assert.deepEqual(legacy.warnings, ['global.enable_redirect is deprecated; use enable_blob_redirect and enable_manifest_redirect']);
});

test('access policies: default deny, explicit default wins over deprecated default_allow', () => {
  const legacy = load(`${BASE}[global.access_policy]\ndefault_allow = true\nrules = ["identity.username != null"]\n`);
  assert.deepEqual(legacy.global.accessPolicy, { default: 'allow', rules: ['identity.username != null'] });
  assert.match(legacy.warnings[0] ?? '', /global\.access_policy\.default_allow is deprecated/);
  assert.equal(load(`${BASE}[global.access_policy]\ndefault = "deny"\ndefault_allow = true\n`).global.accessPolicy.default, 'deny');
  assert.match(failure(`${BASE}[global.access_policy]\ndefault = "maybe"\n`), /global\.access_policy\.default: expected 'allow' or 'deny', got 'maybe'/);
  assert.match(failure(`${BASE}[global.access_policy]\nrules = ["  "]\n`), /global\.access_policy\.rules: rule 1 is empty/);
  const repo = load(`${BASE}[repository."sandbox".access_policy]\ndefault = "allow"\n[repository."other"]\n`);
  assert.deepEqual(repo.repositories[0]!.accessPolicy, { default: 'allow', rules: [] });
  assert.equal(repo.repositories[1]!.accessPolicy, undefined);
});

test('immutable tag exclusions compile; a bad pattern names key, index and pattern', () => {
  const config = load(`${BASE}[global]\nimmutable_tags = true\nimmutable_tags_exclusions = ["^latest$"]\n[repository."a"]\nimmutable_tags_exclusions = ["dev"]\n`);
  assert.ok(config.global.immutableTagsExclusions[0]!.test('latest'));
  assert.ok(!config.global.immutableTagsExclusions[0]!.test('latest-rc'));
  assert.ok(config.repositories[0]!.immutableTagsExclusions[0]!.test('dev-1'));
  assert.match(failure(`${BASE}[global]\nimmutable_tags_exclusions = ["ok", "[bad"]\n`), /^global\.immutable_tags_exclusions\[1\]: invalid regex '\[bad'/);
});

test('metadata store inherits the filesystem blob store and validates its own settings', () => {
  const own = load(`${SERVER}[blob_store.fs]\nroot_dir = "/blobs"\nsync_to_disk = true\n[metadata_store.fs]\nroot_dir = "/meta"\n`);
  assert.deepEqual(own.metadataStore, { kind: 'fs', rootDir: '/meta', syncToDisk: true });
  const inherited = load(`${BASE}[metadata_store.fs]\n`);
  assert.equal(inherited.metadataStore.kind === 'fs' && inherited.metadataStore.rootDir, '/data');
  assert.equal(failure(`${BASE}[metadata_store.fs]\nroot_dir = ""\n`), 'metadata_store.fs.root_dir must not be empty');
});

test('lock-era keys load, ignored, with one deprecation warning naming each key', () => {
  const deprecated = (key: string) => `${key} is deprecated and ignored: the registry needs no lock service (job claims use the metadata store's atomic create)`;
  const redis = load(`${BASE}[metadata_store.fs.lock_strategy.redis]\nurl = "redis://r"\nttl = 10\n`);
  assert.deepEqual(redis.metadataStore, { kind: 'fs', rootDir: '/data', syncToDisk: false });
  assert.deepEqual(redis.warnings, [deprecated('metadata_store.fs.lock_strategy')]);
  // Whatever the old loader refused (an S3 lock on a filesystem, a bad string, both spellings at once) loads too.
  assert.deepEqual(load(`${BASE}[metadata_store.fs.lock_strategy.s3]\n`).warnings, [deprecated('metadata_store.fs.lock_strategy')]);
  assert.deepEqual(load(`${BASE}[metadata_store.fs]\nlock_strategy = "redis"\n`).warnings, [deprecated('metadata_store.fs.lock_strategy')]);
  const both = load(`${BASE}[metadata_store.fs.redis]\nurl = "redis://r"\nttl = 10\n[metadata_store.fs.lock_strategy.redis]\nurl = "redis://r"\n`);
  assert.deepEqual(both.warnings, [deprecated('metadata_store.fs.lock_strategy'), deprecated('metadata_store.fs.redis')]);
  const s3 = load(`${SERVER}[blob_store.s3]\n${S3_KEYS}[metadata_store.s3]\n${S3_KEYS}[metadata_store.s3.lock_strategy.s3]\nttl_secs = 8\nfencing = 1\n`);
  assert.deepEqual(s3.warnings, [deprecated('metadata_store.s3.lock_strategy')]);
});

const S3_KEYS = 'access_key_id = "AKIA"\nsecret_key = "s3cret-value"\nendpoint = "http://127.0.0.1:9000"\nbucket = "b"\nregion = "us-east-1"\n';

test('S3 blob store: required connection keys, metadata inherits the connection', () => {
  const config = load(`${SERVER}[blob_store.s3]\n${S3_KEYS}key_prefix = "p/"\nmultipart_part_size = "50MiB"\n`);
  assert.equal(config.blobStore.kind, 's3');
  assert.ok(config.metadataStore.kind === 's3' && config.metadataStore.inherited);
  assert.deepEqual(config.metadataStore.kind === 's3' && config.metadataStore.settings, {
    ...S3_DEFAULTS,
    accessKeyId: 'AKIA', secretKey: 's3cret-value', endpoint: 'http://127.0.0.1:9000', bucket: 'b', region: 'us-east-1', keyPrefix: 'p/',
  });
  assert.equal(failure(`${SERVER}[blob_store.s3]\nbucket = "b"\n`), "blob_store.s3: missing field 'access_key_id'");
  const typeError = failure(`${SERVER}[blob_store.s3]\n${S3_KEYS.replace('"s3cret-value"', '12345')}`);
  assert.equal(typeError, 'blob_store.s3.secret_key: invalid type: expected a string, found an integer');
  assert.match(failure(`${SERVER}[blob_store.s3]\n${S3_KEYS}multipart_part_size = "4XB"\n`), /blob_store\.s3\.multipart_part_size: invalid size '4XB'/);
  assert.match(failure(`${SERVER}[blob_store.s3]\n${S3_KEYS.replace('http://127.0.0.1:9000', 'ftp://x')}`), /blob_store\.s3\.endpoint: expected an http\(s\) URL/);
  assert.equal(failure(`${SERVER}[blob_store.s3]\n${S3_KEYS}[metadata_store.fs]\n`), "metadata_store.fs: missing field 'root_dir'");
});

test('job queue: no lock service needed, on a filesystem or an S3 metadata store', () => {
  assert.equal(load(`${BASE}[global.job_queue]\n`).global.jobQueue?.claimTtlSecs, 60);
  assert.match(failure(`${BASE}[global.job_queue]\npending_refresh_interval_secs = 4\n`), /pending_refresh_interval_secs must be at least 5/);
  assert.equal(load(`${BASE}[global.job_queue]\npending_refresh_interval_secs = 30\n`).global.jobQueue?.pendingRefreshIntervalSecs, 30);
  const s3 = load(`${SERVER}[blob_store.s3]\n${S3_KEYS}[global.job_queue]\n[metadata_store.s3]\n${S3_KEYS}`);
  assert.ok(s3.metadataStore.kind === 's3' && !s3.metadataStore.inherited && s3.global.jobQueue !== undefined);
});

test('upstreams and downstreams: shape, defaults and pairing rules', () => {
  const config = load(
    `${BASE}[repository."hub"]\n[[repository."hub".upstream]]\nurl = "https://registry-1.docker.io"\n` +
      `[repository."apps"]\n[[repository."apps".downstream]]\nname = "dr"\nurl = "https://dr.example"\nnamespace_filter = ["^apps/prod/"]\n`,
  );
  const upstream = config.repositories[0]!.upstreams[0]!;
  assert.deepEqual([upstream.url, upstream.maxRedirect, upstream.connectTimeoutSecs, upstream.readTimeoutSecs], ['https://registry-1.docker.io', 5, 30, 300]);
  const downstream = config.repositories[1]!.downstreams[0]!;
  assert.deepEqual([downstream.name, downstream.mode, downstream.maxConcurrentPushes, downstream.prune], ['dr', 'event+reconcile', 4, false]);
  assert.ok(downstream.namespaceFilter[0]!.test('apps/prod/web'));

  const up = `${BASE}[repository."hub"]\n[[repository."hub".upstream]]\n`;
  assert.equal(failure(`${up}url = "https://a"\nclient_certificate = "c.pem"\n`), 'repository."hub".upstream[0]: both client_certificate and client_private_key are required for mTLS');
  assert.equal(failure(`${up}max_redirect = 5\n`), `repository."hub".upstream[0]: missing field 'url'`);
  assert.equal(failure(`${up}url = "https://a"\nmax_redirect = 256\n`), 'repository."hub".upstream[0].max_redirect must be between 0 and 255, got 256');
  assert.match(failure(`${up}url = "registry-1.docker.io"\n`), /^repository\."hub"\.upstream\[0\]\.url: expected an absolute http\(s\) URL/);
  const lonely = load(`${up}url = "https://a"\npassword = "hunter2"\n`);
  assert.equal(lonely.repositories[0]!.upstreams[0]!.password, undefined);
  assert.match(lonely.warnings.join('\n'), /upstream\[0\]: username and password must be set together; connecting anonymously/);
  assert.ok(!lonely.warnings.join('\n').includes('hunter2'));

  const down = `${BASE}[repository."apps"]\n[[repository."apps".downstream]]\nname = "dr"\nurl = "https://a"\n`;
  assert.match(failure(`${down}[[repository."apps".downstream]]\nname = "dr"\nurl = "https://b"\n`), /duplicate downstream name 'dr'/);
  assert.match(failure(`${down}mode = "push"\n`), /downstream\[0\]\.mode: expected one of 'event\+reconcile', 'event-only', 'reconcile-only', got 'push'/);
  assert.equal(failure(`${down}max_concurrent_pushes = 0\n`), 'repository."apps".downstream[0].max_concurrent_pushes must be > 0, got 0');
  assert.equal(failure(`${BASE}[repository."apps"]\n[[repository."apps".downstream]]\nname = ""\nurl = "https://a"\n`), 'repository."apps".downstream[0].name must not be empty');
});

test('secret values never appear in errors', () => {
  const message = failure(`${BASE}[repository."hub"]\n[[repository."hub".upstream]]\nurl = "https://a"\nusername = "u"\npassword = 42424242\n`);
  assert.equal(message, 'repository."hub".upstream[0].password: invalid type: expected a string, found an integer');
});

test('cache, deprecated section names and named auth tables', () => {
  assert.match(failure(`${BASE}[cache.memory]\n[cache.redis]\nurl = "redis://r"\nkey_prefix = ""\n`), /^cache: only one of 'memory' or 'redis'/);
  assert.equal(failure(`${BASE}[cache.redis]\nkey_prefix = ""\n`), "cache.redis: missing field 'url'");
  const aliased = load(`${SERVER}[storage.fs]\nroot_dir = "/old"\n[cache_store.memory]\n`);
  assert.equal(aliased.blobStore.kind === 'fs' && aliased.blobStore.rootDir, '/old');
  assert.deepEqual(aliased.cache, { kind: 'memory' });
  assert.match(aliased.warnings.join('\n'), /'storage' is deprecated/);
  assert.match(aliased.warnings.join('\n'), /'cache_store' is deprecated/);
  assert.match(failure(`${BASE}[storage.fs]\nroot_dir = "/old"\n`), /cannot set both 'storage' and 'blob_store'/);
  assert.match(failure(`${BASE}[auth.webhook]\nopa = 1\n`), /^auth\.webhook\.opa: invalid type: expected a table/);
});

test('ui section', () => {
  assert.deepEqual(load(`${BASE}[ui]\nenabled = true\nname = "ACME Registry"\n`).ui, { enabled: true, name: 'ACME Registry' });
  assert.match(failure(`${BASE}[ui]\nenabled = 1\n`), /^ui\.enabled: invalid type: expected a boolean/);
});
