// Test support for the namespace repairs of scrub: a registry over a real filesystem store in a fresh directory,
// manifests pushed through the domain, damage done to the store directly, and checks run at a chosen time.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import type { TomlTableValue } from '../config/table-reader.ts';
import { validateConfig } from '../config/validate.ts';
import { registryOver } from '../registry/registry-fixture.ts';
import { makeDigest, type Digest } from '../oci/digest.ts';
import { OCI_MANIFEST, type MediaType } from '../oci/media-type.ts';
import { parseNamespace, type Namespace } from '../oci/name.ts';
import { parseReference } from '../oci/reference.ts';
import { blobKeys } from '../registry/keys.ts';
import type { Registry } from '../registry/registry.ts';
import { TEST_ACTOR } from '../registry/registry-fixture.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { openFsStore } from '../storage/open-store.ts';
import { Actions, type ActionCounts } from './actions.ts';
import type { MaintenanceContext } from './context.ts';
import type { NamespaceCheck, StoreCheck } from './scrub.ts';

export const GRACE_MS = 60_000;

/** The domain over one store holding both blobs and metadata, with the limits the maintenance tests push within. */
export const testRegistry = registryOver;

export interface Pushed {
  digest: Digest;
  bytes: Buffer;
}

export class RepairWorld {
  readonly root: string;
  readonly store: ObjectStore;
  readonly registry: Registry;
  readonly #config: ReturnType<typeof validateConfig>;

  private constructor(root: string) {
    this.root = root;
    const text = `[server]\nbind_address = "127.0.0.1"\nport = 0\n[blob_store.fs]\nroot_dir = ${JSON.stringify(root)}\n[global]\ngc_grace_secs = ${GRACE_MS / 1000}\n`;
    this.#config = validateConfig(parse(text, { integersAsBigInt: true }) as TomlTableValue);
    this.store = openFsStore(root, false);
    this.registry = testRegistry(this.store, false);
  }

  static async open(): Promise<RepairWorld> {
    return new RepairWorld(await mkdtemp(join(tmpdir(), 'angos-repair-')));
  }

  close(): Promise<void> {
    return rm(this.root, { recursive: true, force: true });
  }

  /** Stores bytes and grants them to `ns`, as a completed upload does. */
  async upload(ns: string, data: string): Promise<Pushed> {
    const bytes = Buffer.from(data);
    const digest = sha256(bytes);
    await this.store.put(blobKeys.data(digest), bytes);
    await this.registry.access.grant(namespace(ns), digest);
    return { digest, bytes };
  }

  /** Pushes a manifest body (JSON) by tag or digest through the domain, as a client's PUT would. */
  async push(ns: string, json: Record<string, unknown>, reference?: string, mediaType: MediaType = OCI_MANIFEST): Promise<Pushed> {
    const bytes = Buffer.from(JSON.stringify(json));
    const digest = sha256(bytes);
    const parsed = parseReference(reference ?? digest)!;
    await this.registry.manifests.push(namespace(ns), { reference: parsed, contentType: mediaType, body: bytes, extraTags: [] }, TEST_ACTOR);
    return { digest, bytes };
  }

  /** Runs one check as scrub does, at `now` (default: past grace for everything written so far). */
  async run(check: NamespaceCheck | StoreCheck, ns: string | undefined, options: { dryRun?: boolean; now?: number } = {}): Promise<ActionCounts> {
    const actions = new Actions(options.dryRun ?? false);
    const now = options.now ?? Date.now() + 2 * GRACE_MS;
    const context: MaintenanceContext = { config: this.#config, blobStore: this.store, metaStore: this.store, registry: this.registry, actions, graceMs: GRACE_MS, now: () => now };
    const scrubOptions = {} as never;
    if (ns === undefined) await (check as StoreCheck).run(context, scrubOptions);
    else await (check as NamespaceCheck).run(context, namespace(ns), scrubOptions);
    return actions.counts();
  }

  /** Every key of the store with a hash of its content: equal snapshots mean nothing changed. */
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

  async has(key: string): Promise<boolean> {
    return this.store.head(key).then(
      () => true,
      () => false,
    );
  }
}

export function namespace(ns: string): Namespace {
  const parsed = parseNamespace(ns);
  if (parsed === undefined) throw new Error(`bad namespace ${ns}`);
  return parsed;
}

export function sha256(bytes: Buffer | string): Digest {
  return makeDigest('sha256', createHash('sha256').update(bytes).digest('hex'));
}

/** How many actions of `kind` a run applied (or previewed, dry). */
export function done(counts: ActionCounts, kind: string): number {
  return counts.done.get(kind) ?? 0;
}

/** An OCI image manifest over the given config and layers (descriptors of what `upload` stored). */
export function imageJson(config: Pushed, layers: readonly Pushed[] = [], extra: Record<string, unknown> = {}): Record<string, unknown> {
  const descriptor = (item: Pushed, mediaType: string) => ({ mediaType, digest: item.digest, size: item.bytes.length });
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: descriptor(config, 'application/vnd.oci.image.config.v1+json'),
    layers: layers.map((layer) => descriptor(layer, 'application/vnd.oci.image.layer.v1.tar+gzip')),
    ...extra,
  };
}
