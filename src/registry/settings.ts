import type { Namespace } from '../oci/name.ts';
import type { Tag } from '../oci/tag.ts';

/** What the registry domain needs from the configuration; read on every request so a reload takes effect. */
export interface RegistrySettings {
  maxManifestSize: number;
  maxBlobSize: number;
  allowMissingManifestReferences: boolean;
  /** Immutable tags (docs/api.md, "Immutable tags"): the tag is write-once in this namespace. */
  isImmutable(ns: Namespace, tag: Tag): boolean;
  /** Lifetime of presigned redirect URLs (object storage only). */
  presignTtlSecs: number;
  /** `update_pull_time`: record every served manifest pull (docs/storage.md, "Pull history"). */
  updatePullTime: boolean;
}
