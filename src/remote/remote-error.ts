// The one failure type of the remote client (docs/remote.md): whatever went wrong talking to a remote registry,
// callers see a RemoteError and decide from `status` and `denied` alone (fail over, retry, dead-letter).

export interface RemoteErrorOptions {
  /** The status the remote answered with; absent for transport failures, timeouts and bad answers to a 2xx. */
  readonly status?: number | undefined;
  /** The remote answered 403: retrying cannot help (terminal for jobs). */
  readonly denied?: boolean;
  readonly cause?: unknown;
}

/** Every failure: transport, timeout, non-2xx, missing header, oversize, auth. */
export class RemoteError extends Error {
  readonly status: number | undefined;
  readonly denied: boolean;

  constructor(message: string, options: RemoteErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RemoteError';
    this.status = options.status;
    this.denied = options.denied ?? false;
  }
}

/** `error` as a RemoteError: kept when it is one, else wrapped with `context` (`GET https://…`) in front. */
export function asRemoteError(error: unknown, context: string): RemoteError {
  if (error instanceof RemoteError) return error;
  const detail = error instanceof Error ? `${(error as NodeJS.ErrnoException).code ?? error.name}: ${error.message}` : String(error);
  return new RemoteError(`${context}: ${detail}`, { cause: error });
}
