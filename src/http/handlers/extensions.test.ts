import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { expectError, expectStatus } from '../../../test/support/expect.ts';
import { jsonBody, mediaTypeOf, request } from '../../../test/support/http.ts';
import { imageManifest } from '../../../test/support/oci.ts';
import { loadConfig } from '../../config/load.ts';
import type { Config } from '../../config/types.ts';
import { parseNamespace } from '../../oci/name.ts';
import { openTestRegistry, pushTo } from '../../registry/registry-fixture.ts';
import { JobStore } from '../../jobs/job-store.ts';
import { DEFAULT_JOB_POLICY } from '../../jobs/queue.ts';
import type { Registry } from '../../registry/registry.ts';
import { createRegistryServer } from '../server.ts';
import { MemoryCache } from '../../cache/memory-cache.ts';

// `local` comes first in the file: repositories/list must still answer in name order.
const REPOSITORIES = `
[global]
immutable_tags_exclusions = ["^latest$"]

[global.access_policy]
default = "allow"

[repository."local"]
immutable_tags_exclusions = ["^dev-"]

[repository."hub"]
immutable_tags = true

[[repository."hub".upstream]]
url = "https://registry-1.docker.io"
`;

describe('extension API over configured repositories', () => {
  let workDir: string;
  let url: string;
  let registry: Registry;
  let cleanupRegistry: () => Promise<void>;
  let withUi: Config;
  let withoutUi: Config;
  let current: Config;
  let server: Server;

  async function loadToml(name: string, toml: string): Promise<Config> {
    const path = join(workDir, name);
    // The registry runs on the fixture's store; the configuration only has to be valid.
    await writeFile(path, `[server]\nbind_address = "127.0.0.1"\nport = 0\n\n[blob_store.fs]\nroot_dir = ${JSON.stringify(join(workDir, 'data'))}\n${toml}`);
    return loadConfig([path]);
  }

  async function getJson(path: string): Promise<unknown> {
    const response = await request(url, path);
    expectStatus(response, 200);
    assert.equal(mediaTypeOf(response), 'application/json');
    return jsonBody(response);
  }

  async function push(name: string, tag: string): Promise<void> {
    await pushTo(registry, name, tag, imageManifest());
  }

  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'angos-extensions-'));
    withoutUi = await loadToml('plain.toml', REPOSITORIES);
    withUi = await loadToml('ui.toml', `${REPOSITORIES}\n[ui]\nenabled = true\nname = "Test Registry"\n`);
    current = withoutUi;
    const fixture = await openTestRegistry();
    registry = fixture.registry;
    cleanupRegistry = fixture.cleanup;
    // Pull-through repositories refuse pushes over HTTP; a cache fill stores content the same way.
    await push('hub/library/nginx', 'latest');
    await push('local', 'v1');
    await push('local/app', 'v1');
    await push('local/app', 'v2');
    await registry.uploads.start(parseNamespace('local/app')!);
    await push('unowned/app', 'v1');
    const components = { registry, cache: new MemoryCache(), jobs: new JobStore(fixture.store, () => DEFAULT_JOB_POLICY) };
    server = createRegistryServer({ components: () => components, config: () => current });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.close();
    await cleanupRegistry();
    await rm(workDir, { recursive: true, force: true });
  });

  it('repositories/list: by name, with namespace counts, pull-through and effective immutability', async () => {
    assert.deepEqual(await getJson('/v2/_angos/repositories/list'), {
      repositories: [
        { name: 'hub', namespace_count: 1, pull_through_cache: true, immutable_tags: true },
        { name: 'local', namespace_count: 2, pull_through_cache: false, immutable_tags: false },
      ],
    });
  });

  it('namespaces/list: counts per namespace, upstreams and the effective exclusions', async () => {
    assert.deepEqual(await getJson('/v2/_angos/namespaces/list?repository=hub'), {
      repository: 'hub',
      namespaces: [{ name: 'hub/library/nginx', tag_count: 1, manifest_count: 1, upload_count: 0 }],
      pull_through_cache: true,
      upstream_urls: ['https://registry-1.docker.io'],
      immutable_tags: true,
      immutable_tags_exclusions: ['^latest$'],
    });
    assert.deepEqual(await getJson('/v2/_angos/namespaces/list?repository=local'), {
      repository: 'local',
      namespaces: [
        { name: 'local', tag_count: 1, manifest_count: 1, upload_count: 0 },
        { name: 'local/app', tag_count: 2, manifest_count: 2, upload_count: 1 },
      ],
      pull_through_cache: false,
      upstream_urls: [],
      immutable_tags: false,
      immutable_tags_exclusions: ['^dev-'],
    });
    expectError(await request(url, '/v2/_angos/namespaces/list?repository=unowned'), 404, 'NAME_UNKNOWN');
    expectError(await request(url, '/v2/_angos/namespaces/list?repository=local/app'), 404, 'NAME_UNKNOWN');
  });

  it('ui/config: 404 while the UI is off, the configured name once it is on', async () => {
    current = withoutUi;
    expectError(await request(url, '/v2/_angos/ui/config'), 404, 'NAME_UNKNOWN');
    current = withUi;
    assert.deepEqual(await getJson('/v2/_angos/ui/config'), { name: 'Test Registry' });
    current = withoutUi;
  });

  it('pulls/list by digest answers the documented shape with an empty history', async () => {
    const digest = imageManifest().digest;
    assert.deepEqual(await getJson(`/v2/local/app/_angos/pulls/list?digest=${digest}`), { target: digest, window_secs: 3600, entries: [] });
  });
});
