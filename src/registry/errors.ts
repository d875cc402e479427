/**
 * Why a registry operation refused or failed, in the domain's words. The domain never chooses an HTTP status:
 * `src/http/errors.ts` alone maps each kind to a status, an OCI error code and headers (docs/architecture.md).
 */
export const REGISTRY_ERROR_KINDS = [
  /** The namespace may not read the blob, or its bytes are gone. */
  'blob-unknown',
  /** No such upload session (never opened, finished, cancelled, or its saved hash state was lost). */
  'blob-upload-unknown',
  /** The blob would exceed `max_blob_size`. */
  'blob-too-large',
  /** The bytes do not hash to the digest the client named, or the session is bound to another algorithm. */
  'digest-mismatch',
  /** A chunk does not start where the session ends, or its body length is not the declared one. */
  'size-mismatch',
  /** No manifest under that reference in the namespace. */
  'manifest-unknown',
  /** The manifest body is malformed, or does not match the digest it was pushed under. */
  'manifest-invalid',
  /** The manifest body exceeds `max_manifest_size`. */
  'manifest-too-large',
  /** The manifest references content the namespace cannot read, and missing references are not allowed. */
  'manifest-blob-unknown',
  /** The tag is write-once and already names another manifest. */
  'immutable-tag',
  /** The blob is still used by a live manifest of the namespace. */
  'blob-still-referenced',
  /** A replicated write is older than what the registry holds (last writer wins). */
  'replication-superseded',
  /** The collector is reclaiming bytes this write needs; the client should retry shortly. */
  'reclamation-in-progress',
  /** A `beforeCommit` hook of the event sink refused the change; nothing was stored. */
  'commit-vetoed',
] as const;

export type RegistryErrorKind = (typeof REGISTRY_ERROR_KINDS)[number];

export class RegistryError extends Error {
  readonly kind: RegistryErrorKind;

  constructor(kind: RegistryErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RegistryError';
    this.kind = kind;
  }
}

export function isRegistryError(err: unknown, kind: RegistryErrorKind): err is RegistryError {
  return err instanceof RegistryError && err.kind === kind;
}
