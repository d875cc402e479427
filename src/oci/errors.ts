/** The OCI error codes this registry answers with (docs/api.md, "Errors"); `src/http/errors.ts` gives each its status. */
export const ERROR_CODES = [
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
  'TOOMANYREQUESTS',
  'REPLICATION_SUPERSEDED',
  'INTERNAL_ERROR',
  'PROVIDER_UNAVAILABLE',
  'RECLAMATION_IN_PROGRESS',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * A protocol-level failure the client is told about, by its OCI code: thrown by the grammar parsers of this folder,
 * the router, authentication and the handlers. Failures of the registry domain are `RegistryError`s instead.
 */
export class OciError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message?: string) {
    super(message ?? code);
    this.name = 'OciError';
    this.code = code;
  }

  /** Whether a message was given (the code alone says nothing more). */
  get hasMessage(): boolean {
    return this.message !== this.code;
  }
}

/** A `Range` the blob cannot satisfy: answered with `Content-Range` naming the size. */
export class UnsatisfiableRangeError extends OciError {
  readonly size: number;

  constructor(size: number) {
    super('SIZE_INVALID', 'requested range not satisfiable');
    this.name = 'UnsatisfiableRangeError';
    this.size = size;
  }
}

/** A request that matches no route or has a malformed path or query piece (docs/api.md, "Routing"). */
export class UnmatchedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'UnmatchedError';
  }
}
