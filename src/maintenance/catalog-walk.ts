// Every catalogued namespace, in byte order, page by page: what the per-namespace checks and scheduled retention visit.
import type { Namespace } from '../oci/name.ts';
import type { MaintenanceContext } from './context.ts';

const CATALOG_PAGE = 1000;

export async function* cataloguedNamespaces(context: MaintenanceContext): AsyncGenerator<Namespace> {
  const fresh = context.registry.metadata.fresh;
  // Pages start at their first name inclusive: each one after the first repeats the previous page's last name.
  for (let from: Namespace | undefined; ; ) {
    const page = await fresh.cataloguedPage(from, CATALOG_PAGE);
    for (const ns of page) if (ns !== from) yield ns;
    if (page.length < CATALOG_PAGE) return;
    from = page[page.length - 1];
  }
}
