import { S3Client } from '@aws-sdk/client-s3';
import { setTimeout as sleep } from 'node:timers/promises';
import { CircuitBreaker } from './circuit-breaker.ts';

export interface GatewaySettings {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretKey: string;
  maxAttempts: number;
  operationTimeoutMs: number;
  attemptTimeoutMs: number;
  breakerThreshold: number;
  breakerCooldownMs: number;
}

const BACKOFF_START_MS = 50;
const BACKOFF_MAX_MS = 1000;

/** One S3 call; it must pass `signal` on as the SDK's `abortSignal`. */
export type Call<T> = (signal: AbortSignal) => Promise<T>;

/**
 * The SDK client plus what `[blob_store.s3]` asks around it (docs/configuration.md): our own retries (the SDK's are
 * off, so `max_attempts` means what it says and the breaker sees whole operations), an attempt timeout, an
 * operation deadline and the breaker.
 */
export class S3Gateway {
  readonly client: S3Client;
  readonly breaker: CircuitBreaker;
  readonly #settings: GatewaySettings;

  constructor(settings: GatewaySettings) {
    this.#settings = settings;
    this.client = new S3Client({
      endpoint: settings.endpoint,
      region: settings.region,
      credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretKey },
      // Custom endpoints (MinIO, Ceph, s3rver) rarely resolve virtual-hosted bucket names.
      forcePathStyle: true,
      maxAttempts: 1,
      // Flexible checksums would wrap bodies in aws-chunked framing that S3-compatible servers may store verbatim.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Bounds the wait for response headers; a body that stalls afterwards is caught by `guardStalls`.
      requestHandler: { requestTimeout: settings.attemptTimeoutMs, connectionTimeout: settings.attemptTimeoutMs },
    });
    this.breaker = new CircuitBreaker({ threshold: settings.breakerThreshold, cooldownMs: settings.breakerCooldownMs });
  }

  /** Runs `call` with retries on transient faults, under the breaker. Timers end when the call resolves, so a returned stream is not cut. */
  async send<T>(call: Call<T>): Promise<T> {
    this.breaker.admit();
    const deadline = new AbortController();
    const deadlineTimer = setTimeout(() => deadline.abort(new Error('S3 operation timed out')), this.#settings.operationTimeoutMs);
    try {
      const result = await this.#withRetries(call, deadline.signal);
      this.breaker.success();
      return result;
    } catch (err) {
      if (isTransient(err) || deadline.signal.aborted) this.breaker.failure();
      else this.breaker.success();
      throw err;
    } finally {
      clearTimeout(deadlineTimer);
    }
  }

  /**
   * One attempt, under the breaker, with no attempt or operation timer: for a request whose body streams from a
   * client, which cannot be replayed and whose pace the client sets. `signal` is the caller's own stall guard.
   */
  async sendOnce<T>(call: Call<T>, signal: AbortSignal): Promise<T> {
    this.breaker.admit();
    try {
      const result = await call(signal);
      this.breaker.success();
      return result;
    } catch (err) {
      if (isTransient(err) && !signal.aborted) this.breaker.failure();
      else this.breaker.success();
      throw err;
    }
  }

  async #withRetries<T>(call: Call<T>, deadline: AbortSignal): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const attemptAbort = new AbortController();
      const timer = setTimeout(() => attemptAbort.abort(new Error('S3 attempt timed out')), this.#settings.attemptTimeoutMs);
      try {
        return await call(AbortSignal.any([deadline, attemptAbort.signal]));
      } catch (err) {
        const timedOut = attemptAbort.signal.aborted && !deadline.aborted;
        if ((!isTransient(err) && !timedOut) || attempt >= this.#settings.maxAttempts || deadline.aborted) throw err;
      } finally {
        clearTimeout(timer);
      }
      await sleep(backoff(attempt), undefined, { signal: deadline });
    }
  }

  get attemptTimeoutMs(): number {
    return this.#settings.attemptTimeoutMs;
  }

  destroy(): void {
    this.client.destroy();
  }
}

/** Jittered exponential backoff: 50 ms doubling to 1 s, each delay drawn from its upper half. */
function backoff(attempt: number): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** (attempt - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

export function httpStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const metadata = (err as { $metadata?: { httpStatusCode?: number } }).$metadata;
  return metadata?.httpStatusCode;
}

function errorName(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as { name?: string }).name : undefined;
}

/**
 * No answer at all (connection refused, reset, timeout), a 5xx or throttling: worth retrying, and a breaker failure.
 * 501 Not Implemented is the server's lasting answer for an operation it lacks, not a fault.
 */
export function isTransient(err: unknown): boolean {
  const status = httpStatus(err);
  if (status === undefined) return true;
  return (status >= 500 && status !== 501) || status === 429 || errorName(err) === 'SlowDown';
}

export function isMissing(err: unknown): boolean {
  const name = errorName(err);
  return httpStatus(err) === 404 || name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchUpload';
}

export function isPreconditionFailed(err: unknown): boolean {
  return httpStatus(err) === 412 || errorName(err) === 'PreconditionFailed';
}
