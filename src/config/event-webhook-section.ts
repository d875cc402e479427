// `[event_webhook.<name>]` (docs/configuration.md): where registry events are delivered. Only the document is
// checked here; nothing is connected to at load.
import { readRegexList } from './regex-list.ts';
import { ConfigValueError, type TableReader } from './table-reader.ts';
import type { EventKind, EventWebhookConfig, EventWebhookPolicy } from './types.ts';

const POLICIES: readonly EventWebhookPolicy[] = ['required', 'optional', 'async'];
const EVENTS: readonly EventKind[] = ['manifest.push', 'manifest.delete', 'blob.push', 'tag.create', 'tag.delete', 'manifest.pull', 'blob.pull'];
const MAX_RETRIES = 16;

function isEvent(name: string): name is EventKind {
  return (EVENTS as readonly string[]).includes(name);
}

function readPolicy(entry: TableReader): EventWebhookPolicy {
  const policy = entry.requiredString('policy');
  const known = POLICIES.find((candidate) => candidate === policy);
  if (known === undefined) entry.fail('policy', `expected one of ${POLICIES.map((p) => `'${p}'`).join(', ')}, got '${policy}'`);
  return known;
}

function readEvents(entry: TableReader): EventWebhookConfig['events'] {
  const names = entry.stringArray('events') ?? entry.missing('events');
  const events: EventKind[] = [];
  names.forEach((name, index) => {
    if (!isEvent(name)) throw new ConfigValueError(`${entry.pathOf('events')}[${index}]: unknown event '${name}'; expected one of ${EVENTS.join(', ')}`);
    if (!events.includes(name)) events.push(name);
  });
  const [first, ...rest] = events;
  if (first === undefined) entry.fail('events', 'event webhook must have at least one event');
  return [first, ...rest];
}

function readWebhook(name: string, entry: TableReader): EventWebhookConfig {
  const url = entry.requiredString('url');
  if (!URL.canParse(url) || !['http:', 'https:'].includes(new URL(url).protocol)) {
    entry.fail('url', `expected an absolute http(s) URL, got '${url}'`);
  }
  const policy = readPolicy(entry);
  const events = readEvents(entry);
  const token = entry.string('token', { secret: true });
  if (token === '') entry.fail('token', 'event webhook token must not be empty');
  const maxRetries = entry.integer('max_retries', { min: 0 });
  if (maxRetries !== undefined && maxRetries > MAX_RETRIES) {
    entry.fail('max_retries', `max_retries=${maxRetries} exceeds the supported maximum of ${MAX_RETRIES}`);
  }
  const config: EventWebhookConfig = {
    name,
    url,
    policy,
    events,
    token,
    // A zero timeout would fail every attempt.
    timeoutMs: entry.integer('timeout_ms', { min: 1 }) ?? 5000,
    // A gate retries by default: a single lost packet would otherwise fail the client's write.
    maxRetries: maxRetries ?? (policy === 'required' ? 3 : 0),
    repositoryFilter: readRegexList(entry, 'repository_filter'),
  };
  entry.finish();
  return config;
}

export function readEventWebhooks(root: TableReader): EventWebhookConfig[] {
  const section = root.table('event_webhook');
  if (section === undefined) return [];
  const webhooks = section.keys().map((name) => readWebhook(name, section.table(name)!));
  section.finish();
  return webhooks;
}
