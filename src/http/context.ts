import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authentication } from '../auth/authenticate.ts';
import type { Config } from '../config/types.ts';
import type { Namespace } from '../oci/name.ts';
import type { Actor } from '../registry/events.ts';
import type { PullThrough } from '../mirror/pull-through.ts';
import type { Registry } from '../registry/registry.ts';
import type { JobAdmin } from '../jobs/job-store.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { Action } from '../policy/actions.ts';
import type { ByteBudget } from '../runtime/byte-budget.ts';

/** What every handler gets: the request, the domain, the live configuration. */
export interface HttpContext {
  req: IncomingMessage;
  res: ServerResponse;
  registry: Registry;
  /** Serves namespaces of pull-through repositories (docs/pull-through.md); undefined when none is configured. */
  pullThrough: PullThrough | undefined;
  /** The job queue: enqueue, and the admin API's view (docs/operations.md, "Job queue"). */
  jobs: JobQueue & JobAdmin;
  config: Config;
  /** Headers every successful response carries (e.g. `OCI-Namespace` after an `ns` rewrite). */
  extraHeaders: Record<string, string>;
  /** Who is calling and how they proved it. */
  authentication: Authentication;
  /** The caller as the registry's events name it. */
  actor: Actor;
  /** Manifest bytes held at once, process-wide (the memory policy, `src/runtime/`). */
  manifestBytes: ByteBudget;
  /** Whether the caller may perform `action` on `ns` (policy only; used to pick a mount source). */
  mayPerform(action: Action, ns: Namespace): Promise<boolean>;
}
