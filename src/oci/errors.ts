/** OCI error codes (chapter 01 §12) with their usual status. */
export const ERROR_STATUS = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 413,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 404,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 416,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 400,
  TOOMANYREQUESTS: 429,
  REPLICATION_SUPERSEDED: 409,
  INTERNAL_ERROR: 500,
  PROVIDER_UNAVAILABLE: 503,
  RECLAMATION_IN_PROGRESS: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/**
 * A failure the client is told about. Thrown by parsers and the registry domain; the HTTP layer turns it into
 * the error body. Some codes have several statuses (DENIED: 403, 405, 409; MANIFEST_INVALID: 400, 413).
 */
export class OciError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra response headers, e.g. Retry-After. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, message?: string, options: { status?: number; headers?: Record<string, string> } = {}) {
    super(message ?? code);
    this.name = 'OciError';
    this.code = code;
    this.status = options.status ?? ERROR_STATUS[code];
    this.headers = options.headers ?? {};
  }

  /** The client-facing message: null when none was given and for every 5xx (internal text stays in logs). */
  get publicMessage(): string | null {
    return this.status >= 500 || this.message === this.code ? null : this.message;
  }
}

/** A request that matches no route or has a malformed path/query piece (chapter 01 §1.5). */
export class UnmatchedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'UnmatchedError';
  }
}
