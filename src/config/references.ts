// Names that must resolve to other sections (§3.3, §3.8): webhooks referenced globally or by a
// repository must be defined, so a typo fails at load instead of on the first request.
import { ConfigValueError, isTable } from './table-reader.ts';
import type { GlobalConfig, LaterSections, RepositoryConfig } from './types.ts';

function namesOf(table: unknown): Set<string> {
  return new Set(isTable(table) ? Object.keys(table) : []);
}

export function checkReferences(global: GlobalConfig, repositories: readonly RepositoryConfig[], later: LaterSections): void {
  const authWebhooks = namesOf(later.auth?.webhook);
  const eventWebhooks = namesOf(later.eventWebhook);

  const checkAuthorization = (name: string | undefined, where: string) => {
    if (name !== undefined && name !== '' && !authWebhooks.has(name)) throw new ConfigValueError(`Webhook '${name}' not found (referenced ${where})`);
  };
  const checkEvents = (names: readonly string[] | undefined, where: string) => {
    for (const name of names ?? []) {
      if (!eventWebhooks.has(name)) throw new ConfigValueError(`Event webhook '${name}' not found (referenced ${where})`);
    }
  };

  checkAuthorization(global.authorizationWebhook, 'globally');
  checkEvents(global.eventWebhooks, 'globally');
  for (const repository of repositories) {
    const where = `in '${repository.name}' repository`;
    checkAuthorization(repository.authorizationWebhook, where);
    checkEvents(repository.eventWebhooks, where);
  }
}
