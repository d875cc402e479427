import type { Config } from '../config/types.ts';
import { owningRepository } from '../config/repository-lookup.ts';
import { OciError, UnmatchedError } from '../oci/errors.ts';
import { MAX_NAME_LENGTH, parseNamespace, type Namespace } from '../oci/name.ts';

/**
 * The `ns` query parameter of pull requests (docs/api.md, "The ns parameter"): a value naming the upstream host a repository mirrors
 * selects that repository, and a name it does not own yet is moved under it. Undefined when nothing applies; a
 * repeated `ns` is malformed, like any repeated single-valued parameter.
 */
export function rewriteNamespace(config: Config, ns: Namespace, url: string): { ns: Namespace; header: string } | undefined {
  const question = url.indexOf('?');
  if (question === -1) return undefined;
  const values = new URLSearchParams(url.slice(question + 1)).getAll('ns');
  if (values.length > 1) throw new UnmatchedError("repeated query parameter 'ns'");
  const host = values.length === 1 ? values[0]!.toLowerCase() : '';
  if (host === '') return undefined;
  const repo = config.repositories.find((r) => r.namespace === host);
  if (!repo) return undefined;
  if (owningRepository(config, ns) === repo) return { ns, header: values[0]! };
  const rewritten = `${repo.name}/${ns}`;
  if (rewritten.length > MAX_NAME_LENGTH) throw new OciError('NAME_INVALID', `'${rewritten}' is longer than ${MAX_NAME_LENGTH} characters`);
  const parsed = parseNamespace(rewritten);
  if (!parsed) throw new OciError('NAME_INVALID', `'${rewritten}' is not a valid name`);
  return { ns: parsed, header: values[0]! };
}
