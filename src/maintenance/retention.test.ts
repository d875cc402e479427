// Retention policies (docs/operations.md, "Retention policies"): the decision table, fail-open rules, the worked
// examples and the pass's safety rules, on a real registry over a filesystem store. Times are author times: pushes
// carry a source timestamp, so "day 10" is a real push 90 days before the pass's `now` ("day 100").
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { parse } from 'smol-toml';
import type { TomlTableValue } from '../config/table-reader.ts';
import type { Config } from '../config/types.ts';
import { validateConfig } from '../config/validate.ts';
import type { Digest } from '../oci/digest.ts';
import { OCI_INDEX, OCI_MANIFEST, type MediaType } from '../oci/media-type.ts';
import { parseNamespace, type Namespace } from '../oci/name.ts';
import { parseReference } from '../oci/reference.ts';
import { Registry } from '../registry/registry.ts';
import { testRegistry } from './repair-fixture.ts';
import { TEST_ACTOR } from '../registry/registry-fixture.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { openFsStore } from '../storage/open-store.ts';
import { Actions, type Applied } from './actions.ts';
import type { MaintenanceContext } from './context.ts';
import { pullTimeRefusal } from './retention-decision.ts';
import { runOnce, startRetentionSchedule } from './retention-schedule.ts';
import { applyRetention } from './retention.ts';

const DAY = 86_400_000;
/** "Today" of the worked examples, day 100: when the test started (passes run moments later, on the real clock). */
const NOW = Date.now();
const day = (n: number): number => NOW - (100 - n) * DAY;

interface PassOptions {
  dryRun?: boolean;
  graceMs?: number;
  actions?: Actions;
}

interface PassResult {
  /** `message` of every log line the pass printed. */
  messages: string[];
  warnings: string[];
}

/** A registry over a fresh filesystem root, configured by `toml` (its `[server]` and storage sections are added). */
class World {
  readonly root: string;
  readonly store: ObjectStore;
  readonly registry: Registry;
  readonly config: Config;

  private constructor(root: string, config: Config) {
    this.root = root;
    this.config = config;
    this.store = openFsStore(root, false);
    this.registry = testRegistry(this.store, true);
  }

  static async open(toml = ''): Promise<World> {
    const root = await mkdtemp(join(tmpdir(), 'angos-retention-'));
    const text = `[server]\nbind_address = "127.0.0.1"\nport = 0\n[blob_store.fs]\nroot_dir = ${JSON.stringify(root)}\n${toml}`;
    try {
      return new World(root, validateConfig(parse(text, { integersAsBigInt: true }) as TomlTableValue));
    } catch (err) {
      await rm(root, { recursive: true, force: true });
      throw err;
    }
  }

  close(): Promise<void> {
    return rm(this.root, { recursive: true, force: true });
  }

  /** Pushes `manifest` under `reference` as authored at `atMs`; resolves with its digest. */
  async push(ns: string, reference: string, manifest: Manifest, atMs: number): Promise<Digest> {
    const { digest } = await this.registry.manifests.push(
      name(ns),
      { reference: parseReference(reference)!, contentType: manifest.mediaType, body: manifest.body, extraTags: [], sourceTime: { micros: atMs * 1000 } },
      TEST_ACTOR,
    );
    return digest;
  }

  /** Records a pull of `reference` at `atMs` through the registry's pull history. */
  async pull(ns: string, reference: string, atMs: number): Promise<void> {
    const parsed = parseReference(reference)!;
    const stored = await this.registry.manifests.stat(name(ns), parsed);
    this.registry.pullHistory.record({
      kind: 'manifest-pulled',
      namespace: name(ns),
      actor: { username: 'ci' },
      authoredAt: atMs * 1000,
      reference: parsed,
      digest: stored.digest,
      mediaType: stored.mediaType,
    });
    await this.registry.pullHistory.settled();
  }

  /** One retention pass over every catalogued namespace, as `scrub -r` runs it. */
  async pass(options: PassOptions = {}): Promise<PassResult> {
    const context = this.context(options);
    const namespaces = await this.registry.metadata.fresh.cataloguedPage(undefined, 1000);
    const logs = await capturingLogs(async () => {
      for (const ns of namespaces) await applyRetention(context, ns);
    });
    return {
      messages: logs.map((line) => String(line.fields.message)),
      warnings: logs.filter((line) => line.level === 'WARN').map((line) => String(line.fields.message)),
    };
  }

  context(options: PassOptions = {}): MaintenanceContext {
    return {
      config: this.config,
      blobStore: this.store,
      metaStore: this.store,
      registry: this.registry,
      actions: options.actions ?? new Actions(options.dryRun ?? false),
      graceMs: options.graceMs ?? 0,
      now: Date.now,
    };
  }

  async tags(ns: string): Promise<string[]> {
    return this.registry.metadata.fresh.liveTags(name(ns), undefined, 1000);
  }

  async revisions(ns: string): Promise<Digest[]> {
    return this.registry.metadata.fresh.revisionDigests(name(ns));
  }

  /** Every key of the store with a hash of its content: what a dry run must leave unchanged. */
  async snapshot(): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    let startAfter: string | undefined;
    do {
      const page = await this.store.list('', startAfter === undefined ? {} : { startAfter });
      for (const key of page.keys) found.set(key, createHash('sha256').update(await this.store.get(key)).digest('hex'));
      startAfter = page.next;
    } while (startAfter !== undefined);
    return found;
  }
}

interface Manifest {
  mediaType: MediaType;
  body: Buffer;
  digest: string;
}

function manifestOf(json: Record<string, unknown>, mediaType: MediaType): Manifest {
  const body = Buffer.from(JSON.stringify(json));
  return { mediaType, body, digest: `sha256:${createHash('sha256').update(body).digest('hex')}` };
}

/** An image manifest nobody else has (its config digest is random); `subject` makes it a referrer. */
function image(subject?: Manifest): Manifest {
  const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${createHash('sha256').update(randomUUID()).digest('hex')}`, size: 2 };
  const json: Record<string, unknown> = { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] };
  if (subject) json.subject = { mediaType: subject.mediaType, digest: subject.digest, size: subject.body.length };
  return manifestOf(json, OCI_MANIFEST);
}

function index(children: readonly Manifest[]): Manifest {
  const manifests = children.map((child) => ({ mediaType: child.mediaType, digest: child.digest, size: child.body.length }));
  return manifestOf({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }, OCI_INDEX);
}

function name(ns: string): Namespace {
  return parseNamespace(ns)!;
}

interface LogLine {
  level: string;
  fields: Record<string, unknown>;
}

/** The JSON log lines `body` prints (the logger writes them to stdout); other output passes through. */
async function capturingLogs(body: () => Promise<void>): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (!text.startsWith('{"timestamp"')) return (write as (...args: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
    for (const line of text.split('\n')) if (line !== '') lines.push(JSON.parse(line) as LogLine);
    return true;
  }) as typeof process.stdout.write;
  try {
    await body();
  } finally {
    process.stdout.write = write;
  }
  return lines;
}

/** `retention_policy` TOML for the global table or a repository's. */
function rules(table: string, list: readonly string[]): string {
  // TOML literal strings keep the rules' backslashes as written.
  return `[${table}.retention_policy]\nrules = [${list.map((rule) => `'${rule}'`).join(', ')}]\n`;
}

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe('retention decision table', () => {
  it('no rules anywhere: nothing is deleted, untagged revisions included', async () => {
    world = await World.open('[repository."prod"]\n');
    await world.push('prod/api', 'old', image(), day(1));
    await world.push('dev/api', 'old', image(), day(1));
    const loose = image();
    await world.push('dev/api', loose.digest, loose, day(1));
    const before = await world.snapshot();
    const { messages } = await world.pass();
    assert.deepEqual(messages, []);
    assert.deepEqual(await world.snapshot(), before);
  });

  it('global rules only: they decide in every namespace, owned by a repository or not', async () => {
    world = await World.open(`${rules('global', ['image.tag == "keep"'])}[repository."prod"]\n`);
    for (const ns of ['prod/api', 'dev/api']) {
      await world.push(ns, 'keep', image(), day(99));
      await world.push(ns, 'drop', image(), day(99));
    }
    await world.pass();
    assert.deepEqual(await world.tags('prod/api'), ['keep']);
    assert.deepEqual(await world.tags('dev/api'), ['keep']);
  });

  it('repository rules only: they decide inside the repository; a namespace it does not own keeps everything', async () => {
    world = await World.open(`[repository."prod"]\n${rules('repository."prod"', ['image.tag == "keep"'])}`);
    for (const ns of ['prod/api', 'dev/api']) {
      await world.push(ns, 'keep', image(), day(99));
      await world.push(ns, 'drop', image(), day(99));
    }
    await world.pass();
    assert.deepEqual(await world.tags('prod/api'), ['keep']);
    assert.deepEqual(await world.tags('dev/api'), ['drop', 'keep']);
  });

  it('both: an image is kept when either policy keeps it', async () => {
    world = await World.open(`${rules('global', ['image.tag == "a"'])}[repository."prod"]\n${rules('repository."prod"', ['image.tag == "b"'])}`);
    for (const tag of ['a', 'b', 'c']) await world.push('prod/api', tag, image(), day(99));
    for (const tag of ['a', 'b', 'c']) await world.push('dev/api', tag, image(), day(99));
    await world.pass();
    assert.deepEqual(await world.tags('prod/api'), ['a', 'b']);
    assert.deepEqual(await world.tags('dev/api'), ['a']);
  });
});

describe('fail-open rules', () => {
  it('a rule that errors keeps the image and warns naming its 1-based index, once per namespace pass', async () => {
    // Rule 2 errors on untagged images only (`null.startsWith`), so tagged ones fall through to "delete".
    world = await World.open(rules('global', ['image.tag == "keep"', 'image.tag.startsWith("x")']));
    await world.push('web/app', 'keep', image(), day(1));
    await world.push('web/app', 'drop', image(), day(1));
    const loose = image();
    await world.push('web/app', loose.digest, loose, day(1));
    const { warnings } = await world.pass();
    assert.deepEqual(await world.tags('web/app'), ['keep']);
    assert.ok((await world.revisions('web/app')).includes(loose.digest as Digest), 'the untagged revision is kept (fail-open)');
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /^retention rule 2 of \[global\.retention_policy\] did not evaluate to a boolean/);
  });

  it('refuses to run when a rule reads pull times that are not recorded, naming the rule and the key', async () => {
    world = await World.open(rules('global', ['image.tag == "latest"', 'top_pulled(3)']));
    assert.match(pullTimeRefusal(world.config) ?? '', /^retention rule 2 of \[global\.retention_policy\] \('top_pulled\(3\)'\) uses `top_pulled`, but `\[global\] update_pull_time = false`/);
    const repository = await World.open(`[repository."ci"]\n${rules('repository."ci"', ['image.last_pulled_at > now() - days(3)'])}`);
    try {
      assert.match(pullTimeRefusal(repository.config) ?? '', /rule 1 of \[repository\."ci"\.retention_policy\] .*uses `last_pulled_at`/);
    } finally {
      await repository.close();
    }
    const recorded = await World.open(`[global]\nupdate_pull_time = true\n${rules('global', ['top_pulled(3)'])}`);
    try {
      assert.equal(pullTimeRefusal(recorded.config), undefined);
    } finally {
      await recorded.close();
    }
  });
});

describe('worked examples', () => {
  it('A: a release tag and a recent tag stay; an old feature tag and its untagged revision go in the same run', async () => {
    world = await World.open(rules('global', [String.raw`image.tag != null && image.tag.matches("^v[0-9]+\\.[0-9]+\\.[0-9]+$")`, 'image.pushed_at > now() - days(14)']));
    const release = image();
    const releaseDigest = await world.push('web/app', 'v1.2.0', release, day(10));
    // Another old tag on the release's manifest: it goes, the revision stays (a surviving tag resolves it).
    await world.push('web/app', 'feature-old', release, day(40));
    const recent = await world.push('web/app', 'feature-x', image(), day(95));
    const stale = await world.push('web/app', 'feature-y', image(), day(40));
    const { messages } = await world.pass();
    assert.deepEqual(await world.tags('web/app'), ['feature-x', 'v1.2.0']);
    assert.deepEqual((await world.revisions('web/app')).sort(), [releaseDigest, recent].sort());
    assert.ok(messages.includes(`delete tag 'web/app:feature-y' (policy)`), messages.join('\n'));
    assert.ok(messages.includes(`delete revision 'web/app@${stale}' (policy)`), messages.join('\n'));
    assert.ok(!messages.some((message) => message.includes(releaseDigest)), 'the release revision is not touched');
  });

  it('B: top_pushed(3) keeps the three newest tags and deletes every untagged revision; a recency rule spares recent ones', async () => {
    world = await World.open(`[repository."ci"]\n${rules('repository."ci"', ['top_pushed(3)'])}`);
    const digests = new Map<string, Digest>();
    for (const n of [1, 2, 3, 4, 5]) digests.set(`b${n}`, await world.push('ci/app', `b${n}`, image(), day(n)));
    const loose = image();
    await world.push('ci/app', loose.digest, loose, day(99.5));
    await world.pass();
    assert.deepEqual(await world.tags('ci/app'), ['b3', 'b4', 'b5']);
    assert.deepEqual((await world.revisions('ci/app')).sort(), ['b3', 'b4', 'b5'].map((tag) => digests.get(tag)!).sort());
    await world.close();

    world = await World.open(`[repository."ci"]\n${rules('repository."ci"', ['top_pushed(3)', 'image.pushed_at > now() - days(2)'])}`);
    for (const n of [1, 2, 3, 4, 5]) await world.push('ci/app', `b${n}`, image(), day(n));
    const recentLoose = image();
    const oldLoose = image();
    await world.push('ci/app', recentLoose.digest, recentLoose, day(99.5));
    await world.push('ci/app', oldLoose.digest, oldLoose, day(50));
    await world.pass();
    assert.deepEqual(await world.tags('ci/app'), ['b3', 'b4', 'b5']);
    const revisions = await world.revisions('ci/app');
    assert.ok(revisions.includes(recentLoose.digest as Digest), 'the recent untagged push is spared');
    assert.ok(!revisions.includes(oldLoose.digest as Digest), 'the old untagged push goes');
  });

  it('C: a 30-day-old image survives under the repository`s 365-day policy and goes under the global 7-day one', async () => {
    world = await World.open(`${rules('global', ['image.pushed_at > now() - days(7)'])}[repository."prod"]\n${rules('repository."prod"', ['image.pushed_at > now() - days(365)'])}`);
    await world.push('prod/api', 'v1', image(), day(70));
    await world.push('dev/api', 'v1', image(), day(70));
    await world.pass();
    assert.deepEqual(await world.tags('prod/api'), ['v1']);
    assert.deepEqual(await world.tags('dev/api'), []);
    assert.deepEqual(await world.revisions('dev/api'), []);
    assert.equal((await world.revisions('prod/api')).length, 1);
  });

  it('D: the second most recently pulled tag is kept by top_pulled(2) though pulled 90 days ago; a never-pulled tag goes', async () => {
    world = await World.open(`[global]\nupdate_pull_time = true\n${rules('global', ['image.tag == "latest"', 'image.last_pulled_at > now() - days(30)', 'top_pulled(2)'])}`);
    for (const tag of ['latest', 'old', 'older', 'tmp']) await world.push('web/app', tag, image(), day(1));
    await world.pull('web/app', 'latest', day(99));
    await world.pull('web/app', 'old', day(10));
    await world.pull('web/app', 'older', day(5));
    await world.pass();
    assert.deepEqual(await world.tags('web/app'), ['latest', 'old']);
  });

  it('D (by digest): an untagged revision pulled by digest recently is kept by last_pulled_at', async () => {
    world = await World.open(`[global]\nupdate_pull_time = true\n${rules('global', ['image.last_pulled_at > now() - days(30)'])}`);
    const pulled = image();
    const unpulled = image();
    await world.push('web/app', pulled.digest, pulled, day(1));
    await world.push('web/app', unpulled.digest, unpulled, day(1));
    await world.pull('web/app', pulled.digest, day(90));
    await world.pass();
    assert.deepEqual(await world.revisions('web/app'), [pulled.digest]);
  });

  it('E: a rule that is an int keeps everything and warns for rule 1', async () => {
    world = await World.open(rules('global', ['image.pushed_at']));
    await world.push('web/app', 'old', image(), day(1));
    const loose = image();
    await world.push('web/app', loose.digest, loose, day(1));
    const before = await world.snapshot();
    const { warnings } = await world.pass();
    assert.deepEqual(await world.snapshot(), before);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /^retention rule 1 of \[global\.retention_policy\] did not evaluate to a boolean \(non_boolean_result\)/);
  });
});

describe('protection, referrers and grace', () => {
  it('index children and subjects with referrers survive; a referrer of an unkept subject goes, of a kept one stays', async () => {
    world = await World.open(rules('global', ['image.tag == "latest"']));
    const [amd64, arm64] = [image(), image()];
    await world.push('web/app', amd64.digest, amd64, day(1));
    await world.push('web/app', arm64.digest, arm64, day(1));
    const multi = index([amd64, arm64]);
    await world.push('web/app', 'latest', multi, day(1));
    const signatureOfLatest = image(multi);
    await world.push('web/app', signatureOfLatest.digest, signatureOfLatest, day(1));
    const old = image();
    await world.push('web/app', 'v1', old, day(1));
    const signatureOfOld = image(old);
    await world.push('web/app', signatureOfOld.digest, signatureOfOld, day(1));

    await world.pass();
    assert.deepEqual(await world.tags('web/app'), ['latest']);
    assert.deepEqual(
      (await world.revisions('web/app')).sort(),
      [amd64.digest, arm64.digest, multi.digest, signatureOfLatest.digest, old.digest].sort(),
      'v1 is untagged but has a referrer record; its signature went, the kept image`s stayed',
    );
    // The next pass finds v1's revision without referrers: it goes then.
    await world.pass();
    assert.ok(!(await world.revisions('web/app')).includes(old.digest as Digest));
  });

  it('an untagged revision younger than grace waits (a push may be between its record and its tags); one the pass untagged does not', async () => {
    world = await World.open(rules('global', ['image.tag == "latest"']));
    const loose = image();
    await world.push('web/app', loose.digest, loose, day(1));
    const dropped = await world.push('web/app', 'old', image(), day(1));
    await world.pass({ graceMs: 3_600_000 });
    assert.deepEqual(await world.revisions('web/app'), [loose.digest], 'the tag`s revision went, the young untagged one stayed');
    await world.pass({ graceMs: 0 });
    assert.deepEqual(await world.revisions('web/app'), []);
    assert.ok(dropped);
  });
});

describe('dry run and apply-time re-validation', () => {
  it('a dry run logs exactly what the real run then deletes, and changes nothing', async () => {
    world = await World.open(rules('global', ['image.tag == "latest"']));
    const child = image();
    await world.push('web/app', child.digest, child, day(1));
    await world.push('web/app', 'latest', index([child]), day(1));
    for (const tag of ['v1', 'v2']) await world.push('web/app', tag, image(), day(1));
    const loose = image();
    await world.push('web/app', loose.digest, loose, day(1));
    const subject = image();
    await world.push('web/app', 'signed', subject, day(1));
    const signature = image(subject);
    await world.push('web/app', signature.digest, signature, day(1));

    const before = await world.snapshot();
    const dry = await world.pass({ dryRun: true });
    assert.deepEqual(await world.snapshot(), before, 'the dry run wrote nothing');
    const real = await world.pass();
    const previewed = dry.messages.filter((m) => m.startsWith('DRY RUN: would ')).map((m) => m.slice('DRY RUN: would '.length));
    const done = real.messages.filter((m) => m.startsWith('delete '));
    assert.deepEqual(previewed, done);
    // v1, v2 and signed, the revisions of v1 and v2, the loose revision and the signature: 3 tags, 4 revisions.
    assert.equal(done.filter((m) => m.startsWith('delete tag ')).length, 3, done.join('\n'));
    assert.equal(done.filter((m) => m.startsWith('delete revision ')).length, 4, done.join('\n'));
  });

  it('a tag re-pushed after the decision is not deleted; a revision tagged after the decision is not deleted', async () => {
    world = await World.open(rules('global', ['image.tag == "latest"']));
    await world.push('web/app', 'latest', image(), day(1));
    await world.push('web/app', 'moving', image(), day(1));
    const loose = image();
    const looseDigest = await world.push('web/app', loose.digest, loose, day(1));
    const replacement = image();
    const current = world;
    // A client's writes racing the pass, landing between each decision and its apply-time check.
    const racing = new (class extends Actions {
      override async run(kind: string, subject: string, apply: () => Promise<Applied>): Promise<Applied | 'failed'> {
        if (subject === `'web/app:moving' (policy)`) await current.push('web/app', 'moving', replacement, Date.now());
        if (subject === `'web/app@${looseDigest}' (policy)`) await current.push('web/app', 'pinned', loose, Date.now());
        return super.run(kind, subject, apply);
      }
    })(false);
    const { messages } = await world.pass({ actions: racing });
    assert.deepEqual(await world.tags('web/app'), ['latest', 'moving', 'pinned']);
    const revisions = await world.revisions('web/app');
    assert.ok(revisions.includes(looseDigest) && revisions.includes(replacement.digest as Digest));
    // The tag delete, the loose revision's delete, and the replacement's: it was pushed untagged-looking before step 3
    // read the revisions, so it was judged as untagged, and its apply-time check found `moving` on it.
    assert.equal(messages.filter((m) => m.startsWith('skipped: ')).length, 3, messages.join('\n'));
    assert.deepEqual(racing.counts().done, new Map());
  });

  it('events of retention deletes carry the internal retention actor', async () => {
    world = await World.open(rules('global', ['image.tag == "latest"']));
    await world.push('web/app', 'old', image(), day(1));
    const seen: string[] = [];
    const observed = new Registry({
      blobStore: world.store,
      metaStore: world.store,
      settings: () => ({ maxManifestSize: 1 << 20, maxBlobSize: 1 << 20, allowMissingManifestReferences: true, isImmutable: () => false, presignTtlSecs: 0, updatePullTime: false }),
      events: { beforeCommit: async () => {}, committed: (event) => seen.push(`${event.kind} ${event.actor.internal ?? '-'}`) },
    });
    const context: MaintenanceContext = { config: world.config, blobStore: world.store, metaStore: world.store, registry: observed, actions: new Actions(false), graceMs: 0, now: Date.now };
    await capturingLogs(() => applyRetention(context, name('web/app')));
    assert.deepEqual(seen, ['tag-deleted retention', 'revision-deleted retention']);
  });
});

describe('scheduled retention', () => {
  it('runs the pass over every catalogued namespace periodically until stopped', async () => {
    world = await World.open(rules('global', ['image.tag == "latest"']));
    const current = world;
    await world.push('a/app', 'old', image(), day(1));
    await world.push('b/app', 'old', image(), day(1));
    let runs = 0;
    const schedule = startRetentionSchedule(() => {
      runs++;
      return current.context();
    }, 20);
    try {
      await capturingLogs(async () => {
        while (runs < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      });
    } finally {
      schedule.stop();
    }
    assert.deepEqual(await world.tags('a/app'), []);
    assert.deepEqual(await world.tags('b/app'), []);
    assert.deepEqual(await world.revisions('a/app'), []);
    const after = runs;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(runs <= after + 1, 'no run starts once stopped (one may have been starting)');
  });

  it('with no rules, or rules reading pull times that are not recorded, a run changes nothing', async () => {
    world = await World.open('');
    await world.push('web/app', 'old', image(), day(1));
    await capturingLogs(() => runOnce(() => world!.context(), () => false));
    assert.deepEqual(await world.tags('web/app'), ['old']);
    await world.close();

    world = await World.open(rules('global', ['image.last_pulled_at > now() - days(1)']));
    await world.push('web/app', 'old', image(), day(1));
    const logs = await capturingLogs(() => runOnce(() => world!.context(), () => false));
    assert.deepEqual(await world.tags('web/app'), ['old']);
    assert.ok(logs.some((line) => line.level === 'ERROR' && String(line.fields.message).startsWith('scheduled retention skipped: retention rule 1')));
  });

  it('`[global] retention_interval_secs` defaults to a day; 0 turns the schedule off; negative is a load error', async () => {
    world = await World.open('');
    assert.equal(world.config.global.retentionIntervalSecs, 86_400);
    await world.close();
    world = await World.open('[global]\nretention_interval_secs = 0\n');
    assert.equal(world.config.global.retentionIntervalSecs, 0);
    await assert.rejects(World.open('[global]\nretention_interval_secs = -1\n'), /retention_interval_secs/);
  });

  it('interval 0 schedules nothing', async () => {
    let asked = 0;
    const schedule = startRetentionSchedule(() => {
      asked++;
      return undefined;
    }, 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    schedule.stop();
    assert.equal(asked, 0);
  });
});
