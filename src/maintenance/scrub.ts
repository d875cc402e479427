// The scrub run (docs/operations.md, "scrub"): which checks run, in which order, and the exit code.
import type { Config } from '../config/types.ts';
import { logger } from '../observability/logging.ts';
import type { Namespace } from '../oci/name.ts';
import { LOGGED_EVENTS } from '../registry/events.ts';
import { Registry } from '../registry/registry.ts';
import type { RegistrySettings } from '../registry/settings.ts';
import { openFsStore, openS3Store } from '../storage/open-store.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { Actions } from './actions.ts';
import { cataloguedNamespaces } from './catalog-walk.ts';
import { reconcileBlobIndexCheck } from './blob-index-scrub.ts';
import { blobsCheck } from './blob-scrub.ts';
import type { MaintenanceContext } from './context.ts';
import { linksCheck, phantomLinksCheck } from './link-scrub.ts';
import { manifestsCheck } from './manifest-scrub.ts';
import { mediaTypesCheck } from './media-type-scrub.ts';
import { multipartCheck } from './multipart-scrub.ts';
import { orphanGrantsCheck } from './orphan-grants.ts';
import { orphanNamespacesCheck } from './orphan-namespaces.ts';
import { cacheOrphansCheck, replicationOrphansCheck } from './queue-orphans.ts';
import { referrersCheck } from './referrer-scrub.ts';
import { retentionCheck } from './retention.ts';
import { selectedChecks, type ScrubOptions } from './scrub-options.ts';
import { tagsCheck } from './tag-scrub.ts';
import { uploadNamespaces, uploadsCheck } from './upload-scrub.ts';

const log = logger('angos::maintenance::scrub');

/** A check run once per namespace: catalogued namespaces, and for `visitsUploadOnly` checks the upload tree's too. */
export interface NamespaceCheck {
  readonly flag: string;
  readonly visitsUploadOnly?: boolean;
  /** A reason the run must not start (exit 1, nothing changed), e.g. a rule that needs data that is not kept. */
  refuse?(config: Config, options: ScrubOptions): string | undefined;
  run(context: MaintenanceContext, ns: Namespace, options: ScrubOptions): Promise<void>;
}

/** A check over the whole store. */
export interface StoreCheck {
  readonly flag: string;
  run(context: MaintenanceContext, options: ScrubOptions): Promise<void>;
}

/** Per namespace, in this order: repairs first, so retention and reclamation decide on a consistent store. */
const NAMESPACE_CHECKS: readonly NamespaceCheck[] = [
  tagsCheck,
  retentionCheck,
  uploadsCheck,
  manifestsCheck,
  linksCheck,
  reconcileBlobIndexCheck,
  mediaTypesCheck,
  referrersCheck,
];

/** Store-wide, after every namespace: what frees bytes runs after what frees manifests. */
const STORE_CHECKS: readonly StoreCheck[] = [orphanNamespacesCheck, phantomLinksCheck, blobsCheck, orphanGrantsCheck, multipartCheck, replicationOrphansCheck, cacheOrphansCheck];

/** Runs the selected checks; resolves with the exit code. `fail` reports a start-up failure (exit 1). */
export async function runScrubChecks(config: Config, options: ScrubOptions, fail: (reason: string) => number): Promise<number> {
  const selected = new Set(selectedChecks(options));
  const known = new Set([...NAMESPACE_CHECKS, ...STORE_CHECKS].map((check) => check.flag));
  const missing = [...selected].filter((flag) => !known.has(flag));
  if (missing.length > 0) {
    process.stderr.write(`scrub is not implemented yet for ${missing.join(', ')}; nothing was checked\n`);
    return 1;
  }
  if (selected.size === 0) {
    log.warn('no checks selected; nothing to do (see `angos help scrub`)');
    return 0;
  }
  const perNamespace = NAMESPACE_CHECKS.filter((check) => selected.has(check.flag));
  const storeWide = STORE_CHECKS.filter((check) => selected.has(check.flag));
  for (const check of perNamespace) {
    const refusal = check.refuse?.(config, options);
    if (refusal !== undefined) return fail(refusal);
  }

  let stores: { blobStore: ObjectStore; metaStore: ObjectStore; close(): void };
  try {
    stores = await openStores(config);
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  try {
    const registry = new Registry({ ...stores, settings: () => scrubSettings(config), events: LOGGED_EVENTS });
    try {
      await registry.probe();
    } catch (err) {
      return fail(`metadata store unreachable: ${err instanceof Error ? err.message : String(err)}`);
    }
    const actions = new Actions(options.dryRun);
    const context: MaintenanceContext = { config, ...stores, registry, actions, graceMs: config.global.gc.graceSecs * 1000, now: Date.now };
    if (perNamespace.length > 0) {
      let namespaces: { all: Namespace[]; catalogued: Namespace[] };
      try {
        namespaces = await namespacesToVisit(context, perNamespace.some((check) => check.visitsUploadOnly === true));
      } catch (err) {
        return fail(`cannot enumerate namespaces: ${err instanceof Error ? err.message : String(err)}`);
      }
      const catalogued = new Set(namespaces.catalogued);
      for (const ns of namespaces.all) {
        for (const check of perNamespace) {
          if (!catalogued.has(ns) && check.visitsUploadOnly !== true) continue;
          await guarded(actions, `run ${check.flag} on '${ns}'`, () => check.run(context, ns, options));
        }
      }
    }
    for (const check of storeWide) await guarded(actions, `run ${check.flag}`, () => check.run(context, options));
    log.info(actions.summary());
    return 0;
  } finally {
    stores.close();
  }
}

/** A failing check is logged with its name and the run goes on (exit stays 0). */
async function guarded(actions: Actions, what: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    actions.failed(what, err);
  }
}

/** Catalogued namespaces in byte order, merged with the upload tree's when asked. */
async function namespacesToVisit(context: MaintenanceContext, withUploads: boolean): Promise<{ all: Namespace[]; catalogued: Namespace[] }> {
  const catalogued: Namespace[] = [];
  for await (const ns of cataloguedNamespaces(context)) catalogued.push(ns);
  const all = new Set(catalogued);
  if (withUploads) for (const ns of await uploadNamespaces(context)) all.add(ns);
  return { all: [...all].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), catalogued };
}

/** Opens both stores as the server does (S3 without the multipart probe: scrub only reads uploads). */
async function openStores(config: Config): Promise<{ blobStore: ObjectStore; metaStore: ObjectStore; close(): void }> {
  const opened: Array<{ destroy?: () => void }> = [];
  const open = async (store: Config['blobStore'] | Config['metadataStore'], table: string): Promise<ObjectStore> => {
    if (store.kind === 'fs') return openFsStore(store.rootDir, store.syncToDisk);
    const s3 = await openS3Store(store.settings, table);
    opened.push(s3);
    return s3;
  };
  try {
    const blobStore = await open(config.blobStore, 'blob_store.s3');
    const metaStore = await open(config.metadataStore, 'metadata_store.s3');
    return { blobStore, metaStore, close: () => opened.forEach((store) => store.destroy?.()) };
  } catch (err) {
    opened.forEach((store) => store.destroy?.());
    throw err;
  }
}

/** The settings scrub's registry acts with: its delete paths read none of them but immutability. */
function scrubSettings(config: Config): RegistrySettings {
  return {
    maxManifestSize: config.global.maxManifestSize,
    maxBlobSize: config.global.maxBlobSize,
    allowMissingManifestReferences: config.global.allowMissingManifestReferences,
    isImmutable: () => false,
    presignTtlSecs: 0,
    updatePullTime: false,
  };
}
