// Turns the merged TOML document into the typed, frozen Config. Every rule that needs only the document runs
// here; checks needing I/O (files, S3 probes, connections) run when components are built.
import { readAuth } from './auth-section.ts';
import { readCache } from './cache-section.ts';
import { readEventWebhooks } from './event-webhook-section.ts';
import { readGlobal } from './global-section.ts';
import { readObservability } from './observability-section.ts';
import { checkReferences } from './references.ts';
import { readRepositories } from './repository-section.ts';
import { readServer } from './server-section.ts';
import { readBlobStore, readMetadataStore } from './storage-section.ts';
import { TableReader, type TomlTableValue, type ValidationContext } from './table-reader.ts';
import type { Config } from './types.ts';
import { readUi } from './ui-section.ts';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !(value instanceof RegExp) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Throws ConfigValueError (message names the key path) on the first rule broken. */
export function validateConfig(document: TomlTableValue): Config {
  const context: ValidationContext = { unknownKeys: [], warnings: [] };
  const root = new TableReader(document, '', context);

  const server = readServer(root);
  const global = readGlobal(root);
  const blobStore = readBlobStore(root);
  const metadataStore = readMetadataStore(root, blobStore);
  const repositories = readRepositories(root);
  const ui = readUi(root);
  const { auth, authorizationWebhooks } = readAuth(root);
  const cache = readCache(root);
  const eventWebhooks = readEventWebhooks(root);
  const observability = readObservability(root);
  root.finish();

  checkReferences({ global, repositories, authorizationWebhooks, eventWebhooks });

  const warnings = [...context.warnings];
  if (context.unknownKeys.length > 0) warnings.unshift(`Unknown configuration keys ignored: ${context.unknownKeys.join(', ')}`);
  return deepFreeze({ server, global, blobStore, metadataStore, repositories, ui, auth, authorizationWebhooks, cache, eventWebhooks, observability, warnings });
}
