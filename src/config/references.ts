// Names that must resolve to other sections (docs/configuration.md): webhooks referenced globally or by a
// repository must be defined, so a typo fails at load instead of on the first request.
import { ConfigValueError } from './table-reader.ts';
import type { AuthorizationWebhookConfig, EventWebhookConfig, GlobalConfig, RepositoryConfig } from './types.ts';

export interface ReferencedSections {
  readonly global: GlobalConfig;
  readonly repositories: readonly RepositoryConfig[];
  readonly authorizationWebhooks: readonly AuthorizationWebhookConfig[];
  readonly eventWebhooks: readonly EventWebhookConfig[];
}

export function checkReferences({ global, repositories, authorizationWebhooks, eventWebhooks }: ReferencedSections): void {
  const authNames = new Set(authorizationWebhooks.map((webhook) => webhook.name));
  const eventNames = new Set(eventWebhooks.map((webhook) => webhook.name));

  const checkAuthorization = (name: string | undefined, where: string) => {
    if (name !== undefined && name !== '' && !authNames.has(name)) throw new ConfigValueError(`Webhook '${name}' not found (referenced ${where})`);
  };
  const checkEvents = (names: readonly string[] | undefined, where: string) => {
    for (const name of names ?? []) {
      if (!eventNames.has(name)) throw new ConfigValueError(`Event webhook '${name}' not found (referenced ${where})`);
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
