// The CEL `request` map (docs/configuration.md, `[global.access_policy]`): `action` always, every other key only
// where the action has it, so a rule tests presence with `has(request.x)` and `request.x != null` on an absent key
// errors (and denies).
import { referenceString, type Reference } from '../oci/reference.ts';
import type { Action } from './actions.ts';

/**
 * The facts of one matched request, as plain data. The router's `Route` union fits this shape: each variant
 * carries only the fields its action has, which is exactly what decides the presence of the CEL keys.
 */
export interface RequestFacts {
  readonly action: Action;
  readonly ns?: string;
  readonly digest?: string | undefined;
  /** The `?mount=` digest of `mount-blob`. */
  readonly mount?: string;
  readonly reference?: Reference;
  /** `?tag=` values of a manifest push. */
  readonly tags?: readonly string[];
  readonly session?: string;
  readonly from?: string | undefined;
  readonly n?: number;
  readonly last?: string | undefined;
  readonly artifactType?: string | undefined;
  readonly algorithm?: string | undefined;
  /** `?repository=` of `list-namespaces`. */
  readonly repository?: string;
  /** The job queue of the job actions. */
  readonly queue?: string;
  readonly after?: string | undefined;
}

export interface RequestVariables {
  readonly action: Action;
  readonly namespace?: string;
  readonly digest?: string;
  readonly reference?: string;
  readonly tags?: readonly string[];
  readonly uuid?: string;
  readonly session_id?: string;
  readonly from?: string;
  /** A CEL int, hence `bigint`. */
  readonly n?: bigint;
  readonly last?: string;
  readonly artifact_type?: string;
  readonly digest_algorithm?: string;
  readonly repository?: string;
  readonly queue?: string;
  readonly after?: string;
}

export function requestVariables(facts: RequestFacts): RequestVariables {
  const variables: { -readonly [K in keyof RequestVariables]: RequestVariables[K] } = { action: facts.action };
  if (facts.ns !== undefined) variables.namespace = facts.ns;
  const digest = facts.mount ?? facts.digest ?? manifestDigest(facts);
  if (digest !== undefined) variables.digest = digest;
  if (facts.reference !== undefined) variables.reference = referenceString(facts.reference);
  if (facts.action === 'put-manifest') variables.tags = writtenTags(facts);
  if (facts.session !== undefined) {
    // 1.3.0 called it `uuid`, later versions `session_id`; rules written for either keep working.
    variables.uuid = facts.session;
    variables.session_id = facts.session;
  }
  if (facts.from !== undefined) variables.from = facts.from;
  if (facts.n !== undefined) variables.n = BigInt(facts.n);
  // Referrers page with `last` too, but policies see it only on the catalog and tag listings.
  if (facts.last !== undefined && facts.action !== 'get-referrers') variables.last = facts.last;
  if (facts.artifactType !== undefined) variables.artifact_type = facts.artifactType;
  if (facts.algorithm !== undefined) variables.digest_algorithm = facts.algorithm;
  if (facts.repository !== undefined) variables.repository = facts.repository;
  if (facts.queue !== undefined) variables.queue = facts.queue;
  if (facts.after !== undefined) variables.after = facts.after;
  return variables;
}

/** A by-digest manifest push names its digest [later]; reads and deletes expose only `reference`. */
function manifestDigest(facts: RequestFacts): string | undefined {
  return facts.action === 'put-manifest' && facts.reference?.kind === 'digest' ? facts.reference.digest : undefined;
}

/** Every tag the push writes: the path tag of a by-tag push (its `?tag=` are ignored), else the `?tag=` values. */
function writtenTags(facts: RequestFacts): string[] {
  if (facts.reference?.kind === 'tag') return [facts.reference.tag];
  return [...new Set(facts.tags ?? [])];
}
