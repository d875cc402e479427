// The pull-history part of `scrub --tags` (tag targets) and `--manifests` (revision targets): every target keeps its
// newest access entry, superseded ones go once older than `atime_audit_window_secs` (docs/storage.md, "Pull history").
import type { Namespace } from '../oci/name.ts';
import type { AccessTarget } from '../registry/pull-history.ts';
import type { MaintenanceContext } from './context.ts';

export async function collectSupersededPulls(context: MaintenanceContext, ns: Namespace, kind: AccessTarget['kind']): Promise<void> {
  const history = context.registry.pullHistory;
  const windowMs = context.config.global.gc.atimeAuditWindowSecs * 1000;
  for await (const target of history.targets(ns)) {
    if (target.kind !== kind) continue;
    const subject = target.kind === 'tag' ? `${ns}:${target.tag}` : `${ns}@${target.digest}`;
    // Once superseded and past the window an entry stays so (entries are only added newer): nothing to re-check.
    for (const entry of await history.superseded(ns, target, windowMs, context.now())) {
      await context.actions.run('delete superseded pull record', `'${subject}' (${new Date(entry.at).toISOString()})`, async () => {
        await context.registry.metadata.writes.deleteAccessEntry(ns, target, entry.name);
        return 'applied';
      });
    }
  }
}
