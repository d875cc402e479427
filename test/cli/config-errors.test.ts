// Configuration errors (docs/configuration.md) through the real command line: a configuration that cannot load
// stops the command with `Failed to load configuration from …` on stderr, exit 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inTempDir, MINIMAL_CONFIG, runCli } from './cli-process.ts';

const SERVER = '[server]\nbind_address = "127.0.0.1"\nport = 0\n';
const STORE = '[blob_store.fs]\nroot_dir = "data"\n';

async function expectLoadFailure(config: string, reason: string | RegExp): Promise<void> {
  await inTempDir({ 'bad.toml': config }, async (cwd) => {
    const result = await runCli(['-c', 'bad.toml', 'server'], { cwd });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, '', 'nothing may start, nor log, before the configuration loads');
    assert.ok(result.stderr.startsWith('Failed to load configuration from bad.toml: '), result.stderr);
    const line = result.stderr.trimEnd();
    if (typeof reason === 'string') assert.equal(line, `Failed to load configuration from bad.toml: ${reason}`);
    else assert.match(line, reason);
  });
}

test('without -c, a missing ./config.toml fails naming it with the OS reason', async () => {
  await inTempDir({}, async (cwd) => {
    const result = await runCli(['server'], { cwd });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^Failed to load configuration from config\.toml: Unable to read configuration file config\.toml: ENOENT: no such file or directory/);
  });
});

test('invalid and zero sizes', async () => {
  await expectLoadFailure(`${SERVER}${STORE}[global]\nmax_manifest_size = "5XB"\n`, /global\.max_manifest_size: invalid size '5XB'/);
  await expectLoadFailure(`${SERVER}${STORE}[global]\nmax_blob_size = 0\n`, 'global.max_blob_size must be greater than zero');
});

test('missing sections, empty root_dir, two blob backends', async () => {
  await expectLoadFailure(STORE, "missing field 'server'");
  await expectLoadFailure(SERVER, "missing field 'blob_store'");
  await expectLoadFailure(`${SERVER}[blob_store.fs]\nroot_dir = ""\n`, 'blob_store.fs.root_dir must not be empty');
  await expectLoadFailure(
    `${SERVER}${STORE}[blob_store.s3]\naccess_key_id = "a"\nsecret_key = "b"\nendpoint = "http://s3"\nbucket = "c"\nregion = "d"\n`,
    /blob_store: only one of 'fs' or 's3'/,
  );
});

test('host name bind address, zero query timeout, string port', async () => {
  await expectLoadFailure(`[server]\nbind_address = "localhost"\n${STORE}`, /server\.bind_address: 'localhost' is not an IP address/);
  await expectLoadFailure(`${SERVER}query_timeout = 0\n${STORE}`, /query_timeout must be > 0/);
  await expectLoadFailure(`[server]\nbind_address = "127.0.0.1"\nport = "8000"\n${STORE}`, 'server.port: invalid type: expected an integer, found string "8000"');
});

test('overlapping repositories and mirrored namespaces name both', async () => {
  await expectLoadFailure(`${SERVER}${STORE}[repository."team"]\n[repository."team/app"]\n`, "repository prefixes overlap: 'team' and 'team/app'");
  await expectLoadFailure(`${SERVER}${STORE}[repository."Team"]\n`, /repository name 'Team' is not a valid namespace/);
  await expectLoadFailure(
    `${SERVER}${STORE}[repository."a"]\nnamespace = "docker.io"\n[repository."b"]\nnamespace = "Docker.IO"\n`,
    "repositories 'a' and 'b' both mirror the namespace 'docker.io'",
  );
});

test('a syntax error names the file, line and column', async () => {
  await expectLoadFailure(`${SERVER}${STORE}[global\n`, /^Failed to load configuration from bad\.toml: bad\.toml: Invalid TOML document: .* at line 6, column \d+$/);
});

test('two -c files: post-merge errors end with the merged files', async () => {
  await inTempDir({ 'a.toml': MINIMAL_CONFIG, 'b.toml': '[global]\nmax_blob_size = 0\n' }, async (cwd) => {
    const result = await runCli(['-c', 'a.toml', '-c', 'b.toml', 'scrub', '-t'], { cwd });
    assert.equal(result.code, 1);
    assert.equal(result.stderr.trimEnd(), 'Failed to load configuration from a.toml, b.toml: global.max_blob_size must be greater than zero; merged from a.toml, b.toml');
  });
});

test('unknown keys load, and are reported in one JSON warn line once logging is up', async () => {
  const config = `${MINIMAL_CONFIG}[global]\nfrobnicate = 1\n[made_up]\nx = 1\n[auth.oidc.gha]\nprovider = "github"\ndiscovery_url = "https://x"\n`;
  await inTempDir({ 'config.toml': config }, async (cwd) => {
    // `scrub` loads the configuration and initialises logging, then stops: nothing is served.
    const result = await runCli(['scrub', '-t'], { cwd });
    assert.doesNotMatch(result.stderr, /Failed to load configuration/);
    const warnings = result.logs.filter((log) => log.level === 'WARN');
    assert.equal(warnings.length, 1, result.stdout);
    assert.deepEqual(warnings[0]!.fields, { message: 'Unknown configuration keys ignored: global.frobnicate, auth.oidc.gha.discovery_url, made_up' });
    assert.equal(warnings[0]!.target, 'angos::configuration');
    assert.match((warnings[0] as unknown as { timestamp: string }).timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    const quiet = await runCli(['scrub', '-t'], { cwd, rustLog: 'error' });
    assert.deepEqual(quiet.logs, [], 'RUST_LOG=error hides warnings');
    const targeted = await runCli(['scrub', '-t'], { cwd, rustLog: 'error,angos::configuration=warn' });
    assert.equal(targeted.logs.length, 1);
  });
});

const AUDIT = '[event_webhook.audit]\nurl = "https://audit.internal/registry"\npolicy = "optional"\nevents = ["manifest.push"]\n';
const LOADS = `${SERVER}${STORE}`;

test('event webhook refusals name the key and the file', async () => {
  await expectLoadFailure(`${LOADS}${AUDIT.replace('["manifest.push"]', '[]')}`, 'event_webhook.audit.events: event webhook must have at least one event');
  await expectLoadFailure(`${LOADS}${AUDIT}token = ""\n`, 'event_webhook.audit.token: event webhook token must not be empty');
  await expectLoadFailure(`${LOADS}${AUDIT}max_retries = 17\n`, 'event_webhook.audit.max_retries: max_retries=17 exceeds the supported maximum of 16');
  await expectLoadFailure(`${LOADS}${AUDIT}repository_filter = ["[bad"]\n`, /: event_webhook\.audit\.repository_filter\[0\]: invalid regex '\[bad'/);
  await expectLoadFailure(
    `${LOADS}${AUDIT.replace('"optional"', '"sometimes"')}`,
    "event_webhook.audit.policy: expected one of 'required', 'optional', 'async', got 'sometimes'",
  );
});

test('sampling_rate = 1.5 fails naming the range; sampling_rate = 1 loads', async () => {
  const tracing = (rate: string) => `${LOADS}[observability.tracing]\nendpoint = "http://otel-collector:4317"\nsampling_rate = ${rate}\n`;
  await expectLoadFailure(tracing('1.5'), 'observability.tracing.sampling_rate: sampling_rate must be a finite number in [0.0, 1.0], got 1.5');
  await inTempDir({ 'ok.toml': tracing('1') }, async (cwd) => {
    // `scrub` with no check loads the configuration, then has nothing to do.
    const result = await runCli(['-c', 'ok.toml', 'scrub'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /Failed to load configuration/);
  });
});

test('job queue, upstream URL and retention rule refusals name the key and the file', async () => {
  await expectLoadFailure(`${LOADS}[global.job_queue]\nclaim_ttl_secs = 2\n`, 'global.job_queue.claim_ttl_secs: claim_ttl_secs must be at least 3, got 2');
  await expectLoadFailure(
    `${LOADS}[repository."hub"]\n[[repository."hub".upstream]]\nurl = "https://registry.example/Library"\n`,
    `repository."hub".upstream[0].url: the path 'Library' of 'https://registry.example/Library' is not a valid namespace`,
  );
  await expectLoadFailure(
    `${LOADS}[global.retention_policy]\nrules = ["image.pushed_at > now() -"]\n`,
    /^Failed to load configuration from bad\.toml: global\.retention_policy\.rules\[0\]: invalid CEL rule 'image\.pushed_at > now\(\) -': /,
  );
});
