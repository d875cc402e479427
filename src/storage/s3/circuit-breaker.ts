import { StorageUnavailableError } from '../object-store.ts';

/** Thrown without contacting S3 while the breaker is open. */
export class CircuitOpenError extends StorageUnavailableError {
  constructor(retryInMs: number) {
    super(`S3 circuit breaker open: failing fast for another ${Math.ceil(retryInMs)} ms`, retryInMs);
    this.name = 'CircuitOpenError';
  }
}

export interface BreakerSettings {
  threshold: number;
  cooldownMs: number;
  now?: () => number;
}

/**
 * Per-client breaker (`circuit_breaker_threshold`, `circuit_breaker_cooldown_secs`): after `threshold` consecutive
 * failed operations, fail fast for `cooldownMs`; then let exactly one half-open probe through per window, which
 * closes it on success and re-arms it on failure. Callers decide what counts as a failure (NotFound and 412 do
 * not).
 */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #now: () => number;
  #failures = 0;
  #openUntil = 0;
  #probing = false;

  constructor(settings: BreakerSettings) {
    this.#threshold = settings.threshold;
    this.#cooldownMs = settings.cooldownMs;
    this.#now = settings.now ?? Date.now;
  }

  get isOpen(): boolean {
    return this.#failures >= this.#threshold;
  }

  /** Throws `CircuitOpenError` unless this call may go to S3; the call must then report `success` or `failure`. */
  admit(): void {
    if (!this.isOpen) return;
    const wait = this.#openUntil - this.#now();
    if (wait > 0 || this.#probing) throw new CircuitOpenError(Math.max(wait, 0));
    this.#probing = true;
  }

  success(): void {
    this.#failures = 0;
    this.#probing = false;
  }

  failure(): void {
    this.#failures++;
    this.#probing = false;
    if (this.#failures >= this.#threshold) this.#openUntil = this.#now() + this.#cooldownMs;
  }
}
