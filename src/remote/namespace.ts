// Which namespace a request for local namespace `ns` of repository `key` names on the remote (spec §2.2, §5.2).
// The url's path is a namespace prefix on the remote, never an HTTP path prefix.
import { isNamespace } from '../oci/name.ts';

/**
 * `upstream`: a pull-through source, where a bare host drops the key (`docker-io/library/nginx` → `library/nginx`);
 * `downstream`: a replication target, where a bare host keeps the namespace verbatim (a path maps alike for both).
 */
export type RemoteRole = 'upstream' | 'downstream';

/** The remote namespace; throws when `ns` does not belong to `key` or the result is no valid namespace. */
export function mapNamespace(role: RemoteRole, namespacePath: string | undefined, key: string, ns: string): string {
  const rest = ns === key ? undefined : ns.startsWith(`${key}/`) ? ns.slice(key.length + 1) : null;
  if (rest === null) throw new Error(`namespace '${ns}' does not belong to repository '${key}'`);
  let mapped: string;
  if (namespacePath !== undefined) mapped = rest === undefined ? namespacePath : `${namespacePath}/${rest}`;
  else if (role === 'downstream') mapped = ns;
  else mapped = rest ?? key;
  if (!isNamespace(mapped)) throw new Error(`namespace '${ns}' maps to '${mapped.slice(0, 300)}' on the remote, which is not a valid namespace`);
  return mapped;
}
