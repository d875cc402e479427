import { belongsTo } from './repository-section.ts';
import type { Config, RepositoryConfig } from './types.ts';

/** The configured repository owning a namespace: its name equals the namespace or prefixes it at a `/`. */
export function owningRepository(config: Config, ns: string): RepositoryConfig | undefined {
  return config.repositories.find((repo) => belongsTo(ns, repo.name));
}

/** Immutable tags (docs/api.md): repository OR global flag, exempt when an effective exclusion matches. */
export function isImmutableTag(config: Config, ns: string, tag: string): boolean {
  const repo = owningRepository(config, ns);
  if (!config.global.immutableTags && !repo?.immutableTags) return false;
  const exclusions = repo && repo.immutableTagsExclusions.length > 0 ? repo.immutableTagsExclusions : config.global.immutableTagsExclusions;
  return !exclusions.some((pattern) => pattern.test(tag));
}
